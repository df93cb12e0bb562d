/*
 * open.c - opening a SQLite store: the file in WAL mode, its schema
 * (created with a new store, migrated from older versions), the rules it
 * records, and the backend table that points a handle at sqlite/'s files.
 *
 * Schema (version 12; versions 1 to 11 are migrated at open):
 *   meta(key, value)         the jurisdiction rules the store was created with
 *   carriers(id, name)       reporting carriers
 *   events(id, at, kind, carrier, event_id, id6_hash, flags)
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
 * Version 4:
 *   ports(number, donor, recipient, tenure, at)  port authorisations
 *   events_more(number, ordinal, ...)  a number's events after the 8,191st
 *                            (the most the events key holds)
 *   api_keys.rate_per_s, rate_per_day        numbers a key may check a
 *                            second and a day; 0: the server's default
 *   sms_codes, an index of the sign-in code texts still kept (each is
 *                            erased once its code is dead)
 * Version 5:
 *   oauth_clients(client_id, app)  the OAuth 2.0 clients whose access
 *                            tokens act for an app (secondnum apps oauth)
 * Version 6:
 *   receipt_keys(id, public_key, sealed_secret, created_at, retired_at)
 *                            the Ed25519 keys that sign check receipts
 *                            (store/receipts.h); retired_at 0: the current one
 * Version 7:
 *   numbers.seq              the change number of the row's last write: the
 *                            handle takes max(seq) + 1, + 2, ... under the
 *                            write lock (BEGIN IMMEDIATE), so seqs commit in
 *                            increasing order (log.h, sn_store_changes_after);
 *                            the migration numbers existing rows 1, 2, ... in
 *                            number order; an index on it (numbers_seq)
 *   meta 'store_id'          32 random hex digits made with the store (or the
 *                            migration): what an index snapshot names
 * Version 8:
 *   audit(id, at, route, who, number_hash, day, answer, ...)  the audit
 *                            trail (store/audit.h); a batch check's items
 *                            packed in item_data
 *   audit_usage(day, app, reassigned, ...)  checks per day, app and verdict
 * Version 9:
 *   app_demand(name, number, tenure, created)  the apps subscribers asked
 *                            to be able to check (store/demand.h)
 *   guard_holds(day, held)   reissues the guard held, per day (store/stats.h)
 * Version 10 ("who checked my number", store/audit.h):
 *   audit_number             an index of audit on (number_hash, at)
 *   audit_items(number_hash, at, audit, kind)  a batch row's numbered items
 *                            unpacked by the audit thread in the row's
 *                            (since version 11 by the audit thread's
 *                            indexer, after the row), indexed by number
 *                            then time
 * Version 11:
 *   audit_pending(id)        the batch rows whose items are not yet in
 *                            audit_items (store/audit.h)
 * Version 12:
 *   audit.item_meta          a group row's per-record times and
 *                            x-correlators (store/audit.h); NULL in every
 *                            other row
 * Both data tables are rowid tables keyed by those integers: one B-tree per
 * table, and a batch sorted by number appends at the right edge, where SQLite
 * splits pages without moving cells (WITHOUT ROWID tables are index B-trees,
 * which rebalance on every split: measured 1.6x slower here for imports).
 */
#include "store/sqlite/sqlite.h"

#include "core/errors.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCHEMA_VERSION 12
#define BUSY_FIRST_US 50 /* the first sleep before trying the write lock again; each doubles */
#define BUSY_MAX_US 1000 /* up to this */
#define CACHE_KIB 131072

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
 * schema_sql for new stores, added by migrations[1] for old ones). */
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

/* Version 3: subscribers (in create_schema for new stores, migrations[2]
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

/* Version 4: port authorisations (store/ports.h); a number's events past
 * the SN_LOG_KEYED_EVENTS the events key holds (backend.h); per-key check
 * limits; the code texts still kept (in create_schema for new stores,
 * migrations[3] for old ones). */
static const char schema_v4_sql[] =
    "CREATE TABLE ports(number INTEGER PRIMARY KEY, donor INTEGER NOT NULL,"
    " recipient INTEGER NOT NULL, tenure INTEGER NOT NULL, at INTEGER NOT NULL);"
    "CREATE TABLE events_more(number INTEGER NOT NULL, ordinal INTEGER NOT NULL,"
    " at INTEGER NOT NULL, kind INTEGER NOT NULL, carrier INTEGER NOT NULL, event_id TEXT,"
    " id6_hash BLOB, flags INTEGER NOT NULL, PRIMARY KEY(number, ordinal)) WITHOUT ROWID;"
    "ALTER TABLE api_keys ADD COLUMN rate_per_s INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE api_keys ADD COLUMN rate_per_day INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX sms_codes ON sms(number) WHERE purpose = 1 AND body IS NOT NULL;";

/* Version 5: OAuth 2.0 clients mapped to apps (store/apps.h). */
static const char schema_v5_sql[] =
    "CREATE TABLE oauth_clients(client_id TEXT PRIMARY KEY, app INTEGER NOT NULL)"
    " WITHOUT ROWID;";

/* Version 6: the keys that sign check receipts (store/receipts.h). */
static const char schema_v6_sql[] =
    "CREATE TABLE receipt_keys(id INTEGER PRIMARY KEY, public_key BLOB NOT NULL,"
    " sealed_secret TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " retired_at INTEGER NOT NULL DEFAULT 0);";

/* Version 7: change numbers on the states, and the store's identity. */
static const char schema_v7_sql[] =
    "ALTER TABLE numbers ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
    "UPDATE numbers SET seq = r.n FROM (SELECT number AS num, row_number() OVER (ORDER BY number)"
    " AS n FROM numbers) AS r WHERE numbers.number = r.num;"
    "CREATE INDEX numbers_seq ON numbers(seq);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES ('store_id', lower(hex(randomblob(16))));";

/* Version 8: the audit trail and the checks per day, app and verdict
 * (store/audit.h). */
static const char schema_v8_sql[] =
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, status INTEGER NOT NULL,"
    " day INTEGER NOT NULL, items INTEGER NOT NULL DEFAULT 0, route TEXT NOT NULL,"
    " method TEXT NOT NULL, who_kind TEXT NOT NULL, who TEXT NOT NULL, app TEXT NOT NULL,"
    " answer TEXT NOT NULL, request TEXT NOT NULL, number_hash BLOB, item_data BLOB);"
    "CREATE INDEX audit_at ON audit(at, id);"
    "CREATE TABLE audit_usage(day INTEGER NOT NULL, app TEXT NOT NULL,"
    " reassigned INTEGER NOT NULL DEFAULT 0, disconnected INTEGER NOT NULL DEFAULT 0,"
    " unchanged INTEGER NOT NULL DEFAULT 0, unknown INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(day, app)) WITHOUT ROWID;";

/* Version 9: coverage demand, the apps subscribers asked to be able to check
 * (store/demand.h): one row per name and subscriber (number and tenure); the
 * reissues the guard held, per day (store/stats.h). */
static const char schema_v9_sql[] =
    "CREATE TABLE guard_holds(day INTEGER PRIMARY KEY, held INTEGER NOT NULL);"
    "CREATE TABLE app_demand(name TEXT NOT NULL, number INTEGER NOT NULL,"
    " tenure INTEGER NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(name, number, tenure))"
    " WITHOUT ROWID;"
    "CREATE INDEX app_demand_subscriber ON app_demand(number, tenure);";

/* Version 10: a number's audit rows from a time on, for the subscriber's
 * "who checked my number" (store/audit.h): the single rows by an index on
 * the number's hash, a batch's items through audit_items. */
static const char schema_v10_sql[] =
    "CREATE INDEX audit_number ON audit(number_hash, at);"
    "CREATE TABLE audit_items(number_hash BLOB NOT NULL, at INTEGER NOT NULL,"
    " audit INTEGER NOT NULL, kind INTEGER NOT NULL, PRIMARY KEY(number_hash, at, audit))"
    " WITHOUT ROWID;"
    "CREATE INDEX audit_items_audit ON audit_items(audit);";

/* Version 11: the batch rows whose items the trail's indexer has not yet
 * put in audit_items (store/audit.h); a migrated store's are all there. */
static const char schema_v11_sql[] = "CREATE TABLE audit_pending(id INTEGER PRIMARY KEY);";

/* Version 12: group rows, single check records written together
 * (store/audit.h). */
static const char schema_v12_sql[] = "ALTER TABLE audit ADD COLUMN item_meta BLOB;";

static int read_long(void *ctx, const sn_sql_row *row)
{
    *(long *)ctx = (long)sn_sql_int(row, 0);
    return 0;
}

static int meta_get(sqlite_store *s, const char *key, long *value, char *err, size_t errlen)
{
    static const char sql[] = "SELECT value FROM meta WHERE key = ?1";
    int rc =
        sn_sql_one(&s->base, sql, SQL_ARGS(SQL_TEXT(key)), read_long, value, "meta", err, errlen);
    if (rc == SN_ENOTFOUND)
        return sn_fail(err, errlen, SN_ESTORE,
                       "store has no '%s' setting: not a secondnum database?", key);
    return rc;
}

/* Run the steps in one write transaction. */
static int in_transaction(sqlite_store *s, const char *const *steps, size_t n, char *err,
                          size_t errlen)
{
    int rc = sq_exec_sql(s, "BEGIN IMMEDIATE", err, errlen);
    for (size_t i = 0; rc == SN_OK && i < n; i++)
        rc = sq_exec_sql(s, steps[i], err, errlen);
    if (rc != SN_OK) {
        sq_exec_sql(s, "ROLLBACK", NULL, 0);
        return rc;
    }
    return sq_exec_sql(s, "COMMIT", err, errlen);
}

static int create_schema(sqlite_store *s, const sn_rules *r, char *err, size_t errlen)
{
    char meta[256];
    snprintf(meta, sizeof(meta),
             "INSERT INTO meta(key, value) VALUES ('schema_version', '%d'), ('country_code', "
             "'%u'), ('min_aging_days', '%u'), ('tz_minutes', '%d')",
             SCHEMA_VERSION, r->default_cc, r->min_aging_days, r->tz_minutes);
    const char *const steps[] = {schema_sql,    schema_v2_sql,  schema_v3_sql,  schema_v4_sql,
                                 schema_v5_sql, schema_v6_sql,  schema_v7_sql,  schema_v8_sql,
                                 schema_v9_sql, schema_v10_sql, schema_v11_sql, schema_v12_sql,
                                 meta};
    return in_transaction(s, steps, sizeof(steps) / sizeof(steps[0]), err, errlen);
}

/* migrations[v] takes a version v store to version v + 1: its statements,
 * then the new version recorded, in one transaction (migrate). */
static const char *const migrations[SCHEMA_VERSION][2] = {
    [1] = {"ALTER TABLE events ADD COLUMN flags INTEGER NOT NULL DEFAULT 0", schema_v2_sql},
    [2] = {schema_v3_sql, NULL},
    [3] = {schema_v4_sql, NULL},
    [4] = {schema_v5_sql, NULL},
    [5] = {schema_v6_sql, NULL},
    [6] = {schema_v7_sql, NULL},
    [7] = {schema_v8_sql, NULL},
    [8] = {schema_v9_sql, NULL},
    [9] = {schema_v10_sql, NULL},
    [10] = {schema_v11_sql, NULL},
    [11] = {schema_v12_sql, NULL},
};

/* Take a version `version` store to the next version, in one transaction. */
static int migrate(sqlite_store *s, long version, char *err, size_t errlen)
{
    char set_version[80];
    snprintf(set_version, sizeof(set_version),
             "UPDATE meta SET value = '%ld' WHERE key = 'schema_version'", version + 1);
    const char *const *m = migrations[version];
    const char *const steps[] = {m[0], m[1] != NULL ? m[1] : set_version, set_version};
    return in_transaction(s, steps, m[1] != NULL ? 3 : 2, err, errlen);
}

static int load_rules(sqlite_store *s, char *err, size_t errlen)
{
    long version, cc, aging, tz;
    int rc;
    if ((rc = meta_get(s, "schema_version", &version, err, errlen)) != SN_OK)
        return rc;
    for (; version >= 1 && version < SCHEMA_VERSION; version++)
        if ((rc = migrate(s, version, err, errlen)) != SN_OK)
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

static int open_schema(sqlite_store *s, const sn_rules *rules, char *err, size_t errlen)
{
    static const sn_rules defaults = {SN_DEFAULT_CC, SN_DEFAULT_MIN_AGING_DAYS,
                                      SN_DEFAULT_TZ_MINUTES};
    static const char sql[] = "SELECT 1 FROM sqlite_master WHERE name = 'meta'";
    long one = 0;
    int rc = sn_sql_one(&s->base, sql, SQL_NO_ARGS, read_long, &one, "cannot read the database",
                        err, errlen);
    if (rc == SN_ENOTFOUND) {
        if ((rc = create_schema(s, rules != NULL ? rules : &defaults, err, errlen)) != SN_OK)
            return rc;
        s->base.created = 1;
    } else if (rc != SN_OK) {
        return rc;
    }
    return load_rules(s, err, errlen);
}

/* SQLite's busy handler: another handle holds the write lock (the writer,
 * the audit thread, a CLI command). sqlite3_busy_timeout would sleep 1, 2,
 * 5, 10, 15, 20, 25 ms... between tries, so a lock held for one commit (a
 * few ms) could cost the waiter 20, and the writer and the audit thread
 * take turns all the time. Here the sleeps start at BUSY_FIRST_US and
 * double up to BUSY_MAX_US, until SN_SQLITE_BUSY_TIMEOUT_MS have passed
 * since the first try (then SQLITE_BUSY: "database is locked"). */
static int busy_wait(void *ctx, int tries)
{
    sqlite_store *s = ctx;
    int64_t now = sn_monotonic_us();
    if (tries == 0)
        s->busy_since = now;
    if (now - s->busy_since >= (int64_t)SN_SQLITE_BUSY_TIMEOUT_MS * 1000)
        return 0;
    long us = tries < 5 ? (long)BUSY_FIRST_US << tries : BUSY_MAX_US; /* 50 << 4 < 1000 */
    struct timespec pause = {0, us * 1000};
    nanosleep(&pause, NULL);
    return 1;
}

/* secure_delete = FAST: what a write frees in a page (an erased code's
 * text, a webhook secret sealed over its clear value) is zeroed in the page
 * written anyway, at no extra I/O (import speed measured unchanged), so it
 * leaves the file once the WAL is checkpointed. */
static int configure(sqlite_store *s, char *err, size_t errlen)
{
    char sql[128];
    int rc;
    sqlite3_busy_handler(s->db, busy_wait, s);
    snprintf(sql, sizeof(sql),
             "PRAGMA cache_size = -%d; PRAGMA temp_store = MEMORY; PRAGMA secure_delete = FAST;",
             CACHE_KIB);
    if ((rc = sq_exec_sql(s, sql, err, errlen)) != SN_OK)
        return rc;
    if ((rc = sq_exec_sql(s, "PRAGMA journal_mode = WAL", err, errlen)) != SN_OK)
        return rc;
    return sq_exec_sql(s, "PRAGMA synchronous = FULL", err, errlen);
}

/* Create the file, when absent, with SN_STORE_FILE_MODE: SQLite would make
 * it 0644 (less the umask), and gives its -wal and -shm files the mode of
 * the database file, so this one mode covers all three. An empty file is an
 * empty database to SQLite. No umask is changed: it is the process's, and
 * other threads may be creating files. */
static int create_private(const char *path, char *err, size_t errlen)
{
    if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
        return SN_OK;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, SN_STORE_FILE_MODE);
    if (fd >= 0) {
        /* the umask may have taken bits away; it never adds any */
        int rc = fchmod(fd, SN_STORE_FILE_MODE) == 0
                     ? SN_OK
                     : sn_fail(err, errlen, SN_ESTORE, "cannot set the mode of %s: %s", path,
                               strerror(errno));
        close(fd);
        return rc;
    }
    return SN_OK; /* it exists, or SQLite will say why it cannot be opened */
}

/* SQLite's own memory statistics off, before its first use: each of its
 * allocations took a global mutex for them, shared by every thread's
 * handle (a tenth of the audit trail's time). Refused once SQLite is in
 * use (a library caller went first): then they stay on, nothing else
 * changes. */
static void no_memory_statistics(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int sn_store_sqlite_open(const char *path, const sn_rules *rules, sn_store **out, char *err,
                         size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, no_memory_statistics);
    sqlite_store *s = calloc(1, sizeof(*s));
    int rc;
    if (s == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    s->base.be = &sn_sqlite_backend;
    if ((rc = create_private(path, err, errlen)) != SN_OK)
        goto fail;
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = sn_fail(err, errlen, SN_ESTORE, "cannot open %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    if ((rc = configure(s, err, errlen)) != SN_OK ||
        (rc = open_schema(s, rules, err, errlen)) != SN_OK)
        goto fail;
    *out = &s->base;
    return SN_OK;
fail:
    if (rc == SN_ESTORE && err != NULL && strstr(err, "not a database") != NULL)
        sn_fail(err, errlen, SN_ESTORE, "%s is not a SQLite database", path);
    sn_sqlite_backend.close(&s->base);
    return rc;
}
