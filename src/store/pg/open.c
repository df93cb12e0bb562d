/*
 * open.c - opening a PostgreSQL store: connecting, the schema (created in
 * a new database, migrated from older versions), the rules it records, the
 * integrity check, and the backend table that points a handle at pg/'s
 * files.
 *
 * Schema (version 14; versions 2 and 3 are SQLite's, for the same tables):
 *   meta, carriers, events, numbers, api_keys, ranges, apps, bindings,
 *   notices, deliveries (version 2), sms, otp, rate_limits, sessions,
 *   requests, complaints (version 3): the tables, keys and partial indexes
 *   of the SQLite store, with the same integer keys (events.id = number << 13
 *   | ordinal). Version 4, PostgreSQL's own: numbers.seq, the change number
 *   serve nodes follow each other's writes by (sequence number_changes).
 *   Version 5 (SQLite's 4): ports, events_more, api_keys.rate_per_s and
 *   rate_per_day, sms_codes (the sign-in code texts still kept). Version 6
 *   (SQLite's 5): oauth_clients, the OAuth 2.0 clients mapped to apps.
 *   Version 7 (SQLite's 6): receipt_keys, the keys that sign receipts.
 *   Version 8: meta 'store_id', the store's random identity (an index
 *   snapshot names it; SQLite's 7, which also adds numbers.seq).
 *   Version 9 (SQLite's 8): audit, the audit trail, and audit_usage, the
 *   checks per day, app and verdict (store/audit.h). Version 10 (SQLite's
 *   9): app_demand, the apps subscribers asked for; guard_holds, the
 *   reissues the guard held per day. Version 11: events partitioned by
 *   number prefix (events_partition_sql). Version 12 (SQLite's 10):
 *   audit_number, an index of audit by number hash and time, and
 *   audit_items, a batch row's numbered items (store/audit.h). Version
 *   13 (SQLite's 11): audit_pending, the batch rows whose items are not
 *   yet in audit_items (store/audit.h). Version 14 (SQLite's 12):
 *   audit.item_meta, a group row's per-record times and x-correlators. A
 *   new store is the version 2 schema plus every migration step, so new and
 *   migrated stores are the same.
 *   Text columns use the "C" collation so every ORDER BY sorts bytes, as
 *   SQLite does. Ids (carriers, apps, keys, notices, sms, requests,
 *   complaints) are max(id) + 1 taken under the writer lock (db.c), like
 *   SQLite's rowids: dense, in commit order, no gaps after a rollback.
 */
#include "store/pg/pg.h"

#include "core/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION 14
#define BASE_VERSION 2 /* what schema_sql creates; migrations[] takes it on */

/* Columns are ordered widest first so rows pack without padding. */
static const char schema_sql[] =
    "CREATE TABLE meta(key text COLLATE \"C\" PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE carriers(id bigint PRIMARY KEY, name text COLLATE \"C\" NOT NULL UNIQUE);"
    "CREATE TABLE events(id bigint PRIMARY KEY, at bigint NOT NULL, carrier integer NOT NULL,"
    " kind smallint NOT NULL, flags smallint NOT NULL DEFAULT 0, event_id text COLLATE \"C\","
    " id6_hash bytea);"
    "CREATE TABLE numbers(number bigint PRIMARY KEY, last_at bigint NOT NULL,"
    " status smallint NOT NULL, first_is_activation smallint NOT NULL, tenure integer NOT NULL,"
    " carrier integer NOT NULL, events integer NOT NULL, first_day integer NOT NULL,"
    " last_activation_day integer NOT NULL, last_cancel_day integer NOT NULL);"
    "CREATE TABLE api_keys(id bigint PRIMARY KEY, carrier bigint NOT NULL,"
    " role smallint NOT NULL, revoked smallint NOT NULL DEFAULT 0,"
    " name text COLLATE \"C\" NOT NULL, hash bytea NOT NULL UNIQUE);"
    "CREATE TABLE ranges(carrier bigint NOT NULL, prefix text COLLATE \"C\" NOT NULL,"
    " PRIMARY KEY(carrier, prefix));"
    "CREATE TABLE apps(id bigint PRIMARY KEY, sub_cancel smallint NOT NULL DEFAULT 0,"
    " sub_reissue smallint NOT NULL DEFAULT 0, name text COLLATE \"C\" NOT NULL UNIQUE,"
    " webhook_url text COLLATE \"C\", webhook_secret text COLLATE \"C\");"
    "CREATE TABLE bindings(number bigint NOT NULL, app bigint NOT NULL, bound_at bigint NOT NULL,"
    " tenure integer NOT NULL, account bytea NOT NULL, PRIMARY KEY(number, app, account));"
    "CREATE INDEX bindings_app ON bindings(app, number);"
    "CREATE TABLE notices(id bigint PRIMARY KEY, app bigint NOT NULL, number bigint NOT NULL,"
    " event_at bigint NOT NULL, created bigint NOT NULL, deadline bigint NOT NULL,"
    " acked_at bigint NOT NULL DEFAULT 0, tenure integer NOT NULL, kind smallint NOT NULL,"
    " source smallint NOT NULL, event smallint NOT NULL, outcome smallint NOT NULL DEFAULT 0,"
    " account bytea, note text COLLATE \"C\");"
    "CREATE INDEX notices_app ON notices(app, id);"
    "CREATE INDEX notices_open ON notices(number, deadline) WHERE outcome = 0;"
    "CREATE INDEX notices_due ON notices(deadline) WHERE outcome = 0 AND deadline > 0;"
    "CREATE TABLE deliveries(notice bigint PRIMARY KEY, app bigint NOT NULL,"
    " number bigint NOT NULL, first_at bigint NOT NULL, next_at bigint NOT NULL,"
    " attempts integer NOT NULL, state smallint NOT NULL, last_error text COLLATE \"C\");"
    "CREATE INDEX deliveries_due ON deliveries(next_at, notice) WHERE state = 0;"
    "CREATE INDEX deliveries_order ON deliveries(app, number, notice) WHERE state = 0;"
    "CREATE INDEX deliveries_app ON deliveries(app, state, notice);";

/* Version 10: events becomes a table partitioned by RANGE of its key, so
 * by number (id = number << 13 | ordinal): one partition per prefix of
 * national digits after the store's country code (PG_EVENT_PREFIXES_*),
 * where the country's numbers have one length (86: 11 digits, +86100 to
 * +86199, one carrier block each; 1: 10 digits, +120 to +199), and a
 * DEFAULT partition for every other number (other lengths, other country
 * codes; a store of another country code has only that one, until the
 * operator splits it: docs/scaling.md). Partitions are named
 * events_<cc>_<prefix> (events_86_138 holds +86138...). The rows move into
 * the new table in the migration's transaction, under the writer lock, and
 * the old table is dropped; the key stays the primary key (the partition
 * key is the key, so uniqueness holds across partitions). The step reads
 * the country code from meta, so a new store writes meta first. */
#define PG_EVENT_PREFIXES_86 "100, 199" /* 100 partitions, +86100 to +86199 */
#define PG_EVENT_PREFIXES_1 "20, 99"    /* 80 partitions, +120 to +199 */
static const char events_partition_sql[] =
    "DO $$ DECLARE"
    " cc bigint := coalesce((SELECT value FROM meta WHERE key = 'country_code'), '0')::bigint;"
    " nlen int := 0; lo int := 0; hi int := -1; width numeric; base numeric;"
    " BEGIN"
    " ALTER TABLE events RENAME TO events_unpartitioned;"
    " ALTER TABLE events_unpartitioned RENAME CONSTRAINT events_pkey TO events_unpartitioned_pkey;"
    " CREATE TABLE events(id bigint NOT NULL, at bigint NOT NULL, carrier integer NOT NULL,"
    "  kind smallint NOT NULL, flags smallint NOT NULL DEFAULT 0, event_id text COLLATE \"C\","
    "  id6_hash bytea, PRIMARY KEY (id)) PARTITION BY RANGE (id);"
    " IF cc = 86 THEN nlen := 11; SELECT * INTO lo, hi FROM (VALUES (" PG_EVENT_PREFIXES_86 ")) v;"
    " ELSIF cc = 1 THEN nlen := 10; SELECT * INTO lo, hi FROM (VALUES (" PG_EVENT_PREFIXES_1 ")) v;"
    " END IF;"
    " base := cc * 10 ^ nlen; width := 10 ^ (nlen - length(lo::text));"
    " FOR p IN lo..hi LOOP"
    "  EXECUTE format('CREATE TABLE events_%s_%s PARTITION OF events FOR VALUES FROM (%s) TO (%s)',"
    "   cc, p, (base + p * width) * 8192, (base + (p + 1) * width) * 8192);"
    " END LOOP;"
    " CREATE TABLE events_default PARTITION OF events DEFAULT;"
    " INSERT INTO events(id, at, carrier, kind, flags, event_id, id6_hash)"
    "  SELECT id, at, carrier, kind, flags, event_id, id6_hash FROM events_unpartitioned ORDER BY "
    "id;"
    " DROP TABLE events_unpartitioned;"
    " END $$";

/* migrations[v] takes a store from version v to v + 1, in the transaction
 * (under the writer lock) that also records the new version. */
static const char *const migrations[SCHEMA_VERSION] = {
    [2] =
        "ALTER TABLE notices ADD COLUMN request bigint NOT NULL DEFAULT 0;"
        "ALTER TABLE apps ADD COLUMN display_name text COLLATE \"C\";"
        "CREATE INDEX notices_request ON notices(request) WHERE request > 0;"
        "CREATE TABLE sms(id bigint PRIMARY KEY, number bigint NOT NULL, created bigint NOT NULL,"
        " next_at bigint NOT NULL DEFAULT 0, sent_at bigint NOT NULL DEFAULT 0,"
        " attempts integer NOT NULL DEFAULT 0, purpose smallint NOT NULL,"
        " state smallint NOT NULL, lang text COLLATE \"C\" NOT NULL, body text COLLATE \"C\","
        " error text COLLATE \"C\");"
        "CREATE INDEX sms_due ON sms(next_at, id) WHERE state = 0;"
        "CREATE INDEX sms_number ON sms(number, id);"
        "CREATE TABLE otp(number bigint PRIMARY KEY, created bigint NOT NULL,"
        " expires bigint NOT NULL, locked_until bigint NOT NULL, attempts integer NOT NULL,"
        " code_hash bytea NOT NULL, lang text COLLATE \"C\" NOT NULL);"
        "CREATE TABLE rate_limits(bucket text COLLATE \"C\" PRIMARY KEY,"
        " win_start bigint NOT NULL, hits integer NOT NULL);"
        "CREATE TABLE sessions(token_hash bytea PRIMARY KEY, number bigint NOT NULL,"
        " created bigint NOT NULL, expires bigint NOT NULL, tenure integer NOT NULL,"
        " cancel_day integer NOT NULL, lang text COLLATE \"C\" NOT NULL);"
        "CREATE TABLE requests(id bigint PRIMARY KEY, number bigint NOT NULL, app bigint NOT NULL,"
        " created bigint NOT NULL, deadline bigint NOT NULL, tenure integer NOT NULL,"
        " scope smallint NOT NULL);"
        "CREATE INDEX requests_number ON requests(number, tenure, id);"
        "CREATE TABLE complaints(id bigint PRIMARY KEY, number bigint NOT NULL,"
        " app bigint NOT NULL, carrier bigint NOT NULL, created bigint NOT NULL,"
        " period bigint NOT NULL, resolved_at bigint NOT NULL DEFAULT 0,"
        " tenure integer NOT NULL, kind smallint NOT NULL,"
        " resolved_level smallint NOT NULL DEFAULT 0, body text COLLATE \"C\" NOT NULL,"
        " resolution text COLLATE \"C\");"
        "CREATE INDEX complaints_number ON complaints(number, tenure, id);"
        "CREATE INDEX complaints_app ON complaints(app, id);",
    /* Several nodes: each state row carries the change number of its last
     * write (the default takes the next one; the upsert sets it again), so
     * a node follows the changes in order. CACHE 1: writers take numbers
     * one after the other under the writer lock, never from ranges cached
     * per session, which would commit out of order. */
    [3] = "CREATE SEQUENCE number_changes CACHE 1;"
          "ALTER TABLE numbers ADD COLUMN seq bigint NOT NULL DEFAULT nextval('number_changes');"
          "ALTER SEQUENCE number_changes OWNED BY numbers.seq;"
          "CREATE INDEX numbers_seq ON numbers(seq);",
    /* Port authorisations (store/ports.h), a number's events past the
     * 8,191 the events key holds, per-key check limits (0: the server's
     * default), the code texts still kept (erased once their code is dead). */
    [4] = "CREATE TABLE ports(number bigint PRIMARY KEY, at bigint NOT NULL,"
          " donor bigint NOT NULL, recipient bigint NOT NULL, tenure integer NOT NULL);"
          "CREATE TABLE events_more(number bigint NOT NULL, at bigint NOT NULL,"
          " ordinal integer NOT NULL, carrier integer NOT NULL, kind smallint NOT NULL,"
          " flags smallint NOT NULL, event_id text COLLATE \"C\", id6_hash bytea,"
          " PRIMARY KEY(number, ordinal));"
          "ALTER TABLE api_keys ADD COLUMN rate_per_s bigint NOT NULL DEFAULT 0,"
          " ADD COLUMN rate_per_day bigint NOT NULL DEFAULT 0;"
          "CREATE INDEX sms_codes ON sms(number) WHERE purpose = 1 AND body IS NOT NULL;",
    /* OAuth 2.0 clients whose access tokens act for an app (store/apps.h). */
    [5] = "CREATE TABLE oauth_clients(client_id text COLLATE \"C\" PRIMARY KEY,"
          " app bigint NOT NULL);",
    /* The Ed25519 keys that sign check receipts (store/receipts.h). */
    [6] = "CREATE TABLE receipt_keys(id bigint PRIMARY KEY, created_at bigint NOT NULL,"
          " retired_at bigint NOT NULL DEFAULT 0, public_key bytea NOT NULL,"
          " sealed_secret text COLLATE \"C\" NOT NULL);",
    /* The store's identity, which an index snapshot names (store.h). */
    [7] = "INSERT INTO meta(key, value) VALUES ('store_id',"
          " replace(gen_random_uuid()::text, '-', '')) ON CONFLICT (key) DO NOTHING;",
    /* The audit trail and the checks per app, day and verdict
     * (store/audit.h; SQLite's version 8). Rows come from several serve
     * nodes, so their ids are an identity column, not max(id) + 1. */
    [8] = "CREATE TABLE audit(id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
          " at bigint NOT NULL, status integer NOT NULL, day integer NOT NULL,"
          " items integer NOT NULL DEFAULT 0, route text COLLATE \"C\" NOT NULL,"
          " method text COLLATE \"C\" NOT NULL, who_kind text COLLATE \"C\" NOT NULL,"
          " who text COLLATE \"C\" NOT NULL, app text COLLATE \"C\" NOT NULL,"
          " answer text COLLATE \"C\" NOT NULL, request text COLLATE \"C\" NOT NULL,"
          " number_hash bytea, item_data bytea);"
          "CREATE INDEX audit_at ON audit(at, id);"
          "CREATE TABLE audit_usage(day integer NOT NULL, app text COLLATE \"C\" NOT NULL,"
          " reassigned bigint NOT NULL DEFAULT 0, disconnected bigint NOT NULL DEFAULT 0,"
          " unchanged bigint NOT NULL DEFAULT 0, unknown bigint NOT NULL DEFAULT 0,"
          " PRIMARY KEY(day, app));",
    /* Coverage demand (store/demand.h): the apps subscribers asked to be
     * able to check, one row per name and subscriber (number and tenure);
     * the reissues the guard held, per day (store/stats.h). */
    [9] = "CREATE TABLE guard_holds(day integer PRIMARY KEY, held bigint NOT NULL);"
          "CREATE TABLE app_demand(number bigint NOT NULL, created bigint NOT NULL,"
          " tenure integer NOT NULL, name text COLLATE \"C\" NOT NULL,"
          " PRIMARY KEY(name, number, tenure));"
          "CREATE INDEX app_demand_subscriber ON app_demand(number, tenure);",
    /* The event log partitioned by number prefix (events_partition_sql). */
    [10] = events_partition_sql,
    /* A number's audit rows from a time on (store/audit.h): the single
     * rows by number hash, a batch's items through audit_items. */
    [11] = "CREATE INDEX audit_number ON audit(number_hash, at);"
           "CREATE TABLE audit_items(number_hash bytea NOT NULL, at bigint NOT NULL,"
           " audit bigint NOT NULL, kind smallint NOT NULL, PRIMARY KEY(number_hash, at, audit));"
           "CREATE INDEX audit_items_audit ON audit_items(audit);",
    /* The batch rows whose items are not yet in audit_items. */
    [12] = "CREATE TABLE audit_pending(id bigint PRIMARY KEY);",
    /* Group rows: single check records written together. */
    [13] = "ALTER TABLE audit ADD COLUMN item_meta bytea;",
};

/* The tables integrity() expects and amcheck walks. */
static const char *const tables[] = {
    "meta",          "carriers",     "events",   "numbers",     "api_keys",   "ranges",
    "apps",          "bindings",     "notices",  "deliveries",  "sms",        "otp",
    "rate_limits",   "sessions",     "requests", "complaints",  "ports",      "events_more",
    "oauth_clients", "receipt_keys", "audit",    "audit_usage", "app_demand", "guard_holds",
    "audit_items",   "audit_pending"};

/* Each check returns one row naming the first problem, or no row. */
static const char *const checks[] = {
    "SELECT format('store schema version %s, this build reads " PG_STR(
        SCHEMA_VERSION) "', "
                        "value) FROM meta WHERE key = 'schema_version' AND value <> '" PG_STR(
                            SCHEMA_VERSION) "'",
    "SELECT 'fsync is off on the server: commits are not durable' "
    "WHERE current_setting('fsync') <> 'on'",
    "SELECT format('%s events are logged, the numbers'' states count %s', e, n) FROM "
    "(SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM events_more) AS e) l, "
    "(SELECT coalesce(sum(events), 0) AS n FROM numbers) t WHERE e <> n",
    "SELECT format('number %s: %s events logged (last ordinal %s), its state counts %s', "
    "g.number, g.c, g.m, coalesce(n.events::text, 'no state')) FROM (SELECT id >> 13 AS number, "
    "count(*) AS c, max(id & 8191) AS m FROM events GROUP BY 1) g LEFT JOIN numbers n "
    "ON n.number = g.number WHERE n.number IS NULL OR g.c <> least(n.events, 8191) OR "
    "g.m <> least(n.events, 8191) ORDER BY g.number LIMIT 1",
    "SELECT format('number %s: %s events past the key (last ordinal %s), its state counts %s', "
    "g.number, g.c, g.m, coalesce(n.events::text, 'no state')) FROM (SELECT number, "
    "count(*) AS c, max(ordinal) AS m FROM events_more GROUP BY 1) g LEFT JOIN numbers n "
    "ON n.number = g.number WHERE n.number IS NULL OR g.c + 8191 <> n.events OR "
    "g.m <> n.events ORDER BY g.number LIMIT 1",
    "SELECT format('event %s names carrier %s, which does not exist', e.id, e.carrier) "
    "FROM events e WHERE e.carrier <> 0 AND NOT EXISTS (SELECT 1 FROM carriers c "
    "WHERE c.id = e.carrier) LIMIT 1",
    "SELECT format('notice %s names app %s, which does not exist', n.id, n.app) FROM notices n "
    "WHERE NOT EXISTS (SELECT 1 FROM apps a WHERE a.id = n.app) LIMIT 1",
    "SELECT format('delivery of notice %s: no such notice', d.notice) FROM deliveries d "
    "WHERE NOT EXISTS (SELECT 1 FROM notices n WHERE n.id = d.notice) LIMIT 1",
    "SELECT format('binding of number %s names app %s, which does not exist', b.number, b.app) "
    "FROM bindings b WHERE NOT EXISTS (SELECT 1 FROM apps a WHERE a.id = b.app) LIMIT 1",
};

/* amcheck, when the database has it: every B-tree of the store (parent and
 * child keys agree, heap tuples all indexed), then the heap pages. */
static int amcheck(pg_store *s, char *err, size_t errlen)
{
    char sql[1024];
    PGresult *r = PQexec(s->conn, "SELECT extversion FROM pg_extension WHERE extname = 'amcheck'");
    int rc = SN_OK, heap = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pg_fail(s, r, "integrity check", err, errlen);
        PQclear(r);
        return rc;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return SN_OK;
    }
    heap = strcmp(PQgetvalue(r, 0, 0), "1.3") >= 0; /* verify_heapam came with 1.3 */
    PQclear(r);
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && rc == SN_OK; i++) {
        /* a partitioned table (events) is checked partition by partition:
         * its own index and relation hold no rows */
        snprintf(sql, sizeof(sql),
                 "SELECT bt_index_check(i.indexrelid, true) FROM pg_partition_tree('%s') t "
                 "JOIN pg_index i ON i.indrelid = t.relid WHERE t.isleaf",
                 tables[i]);
        if ((rc = pg_exec_sql(s, sql, "integrity check", err, errlen)) != SN_OK || !heap)
            continue;
        snprintf(sql, sizeof(sql),
                 "SELECT format('table %%s, block %%s: %%s', t.relid, v.blkno, v.msg) FROM "
                 "pg_partition_tree('%s') t, verify_heapam(t.relid) v WHERE t.isleaf LIMIT 1",
                 tables[i]);
        r = PQexec(s->conn, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = pg_fail(s, r, "integrity check", err, errlen);
        else if (PQntuples(r) > 0)
            rc = sn_fail(err, errlen, SN_ESTORE, "integrity check: %s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    return rc;
}

/* The schema's version and tables, durable settings, the log and the states
 * agreeing in their counts, references between tables, then amcheck. Runs in
 * one read-only snapshot. */
static int integrity(sn_store *base, char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    char sql[160];
    int rc, own = !s->base.in_tx;
    if ((rc = pg_enter_log(s, err, errlen)) != SN_OK)
        return rc;
    if (own && (rc = pg_exec_sql(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                                 "integrity check", err, errlen)) != SN_OK)
        return rc;
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && rc == SN_OK; i++) {
        snprintf(sql, sizeof(sql), "SELECT to_regclass('%s') IS NOT NULL", tables[i]);
        PGresult *r = PQexec(s->conn, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = pg_fail(s, r, "integrity check", err, errlen);
        else if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
            rc = sn_fail(err, errlen, SN_ESTORE, "integrity check: table %s is missing", tables[i]);
        PQclear(r);
    }
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]) && rc == SN_OK; i++) {
        PGresult *r = PQexec(s->conn, checks[i]);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = pg_fail(s, r, "integrity check", err, errlen);
        else if (PQntuples(r) > 0)
            rc = sn_fail(err, errlen, SN_ESTORE, "integrity check: %s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    if (rc == SN_OK)
        rc = amcheck(s, err, errlen);
    if (own)
        pg_exec_sql(s, rc == SN_OK ? "COMMIT" : "ROLLBACK", "integrity check", NULL, 0);
    return rc;
}

/* In sn_store_backend's order (backend.h). */
static const sn_store_backend pg_backend = {
    "postgresql",        pg_close,  pg_begin,   pg_commit,      pg_rollback,   pg_reachable,
    pg_relax_durability, integrity, &sn_pg_log, &sn_pg_changes, &sn_pg_driver, pg_due_deliveries,
    pg_delivery_written};

static int has_schema(pg_store *s, int *yes, char *err, size_t errlen)
{
    PGresult *r = PQexec(s->conn, "SELECT to_regclass('meta') IS NOT NULL");
    int rc = SN_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pg_fail(s, r, "cannot read the database", err, errlen);
    else
        *yes = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return rc;
}

/* Create the schema when the database has none, in one transaction under
 * the writer lock (two first opens at once: one creates, the other finds it). */
static int ensure_schema(pg_store *s, const sn_rules *rules, char *err, size_t errlen)
{
    char meta[256];
    int rc, exists = 0;
    if ((rc = has_schema(s, &exists, err, errlen)) != SN_OK || exists)
        return rc;
    s->base.in_tx = 1;
    if ((rc = pg_exec_sql(s, pg_begin_sql, "create schema", err, errlen)) != SN_OK ||
        (rc = has_schema(s, &exists, err, errlen)) != SN_OK)
        goto fail;
    if (!exists) {
        snprintf(meta, sizeof(meta),
                 "INSERT INTO meta(key, value) VALUES ('schema_version', '%d'), "
                 "('country_code', '%u'), ('min_aging_days', '%u'), ('tz_minutes', '%d')",
                 SCHEMA_VERSION, rules->default_cc, rules->min_aging_days, rules->tz_minutes);
        /* meta first: a migration step may read the rules (version 10) */
        if ((rc = pg_exec_sql(s, schema_sql, "create schema", err, errlen)) != SN_OK ||
            (rc = pg_exec_sql(s, meta, "create schema", err, errlen)) != SN_OK)
            goto fail;
        for (int v = BASE_VERSION; v < SCHEMA_VERSION && rc == SN_OK; v++)
            rc = pg_exec_sql(s, migrations[v], "create schema", err, errlen);
        if (rc != SN_OK)
            goto fail;
    }
    if ((rc = pg_commit(&s->base, err, errlen)) != SN_OK)
        goto fail;
    s->base.created = !exists;
    return SN_OK;
fail:
    pg_rollback(&s->base);
    return rc;
}

static int meta_value(const PGresult *r, const char *key, long *value, char *err, size_t errlen)
{
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, 0), key) == 0) {
            *value = strtol(PQgetvalue(r, i, 1), NULL, 10);
            return SN_OK;
        }
    }
    return sn_fail(err, errlen, SN_ESTORE, "store has no '%s' setting: not a secondnum database?",
                   key);
}

/* The store's schema version (*version) and the meta rows (*meta, the
 * caller clears it). */
static int read_meta(pg_store *s, PGresult **meta, long *version, char *err, size_t errlen)
{
    PGresult *r = PQexec(s->conn, "SELECT key, value FROM meta");
    int rc;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pg_fail(s, r, "read settings", err, errlen);
        PQclear(r);
        return rc;
    }
    *meta = r;
    return meta_value(r, "schema_version", version, err, errlen);
}

/* Take an older store to SCHEMA_VERSION: one transaction under the writer
 * lock, which reads the version again (another open may have migrated it). */
static int migrate(pg_store *s, char *err, size_t errlen)
{
    static const char set_version[] =
        "UPDATE meta SET value = '" PG_STR(SCHEMA_VERSION) "' WHERE key = 'schema_version'";
    PGresult *meta = NULL;
    long version = 0;
    int rc;
    s->base.in_tx = 1;
    if ((rc = pg_exec_sql(s, pg_begin_sql, "migrate", err, errlen)) != SN_OK ||
        (rc = read_meta(s, &meta, &version, err, errlen)) != SN_OK)
        goto fail;
    for (long v = version; v >= BASE_VERSION && v < SCHEMA_VERSION && rc == SN_OK; v++)
        rc = pg_exec_sql(s, migrations[v], "migrate", err, errlen);
    if (rc != SN_OK || (version < SCHEMA_VERSION &&
                        (rc = pg_exec_sql(s, set_version, "migrate", err, errlen)) != SN_OK))
        goto fail;
    PQclear(meta);
    return pg_commit(&s->base, err, errlen);
fail:
    PQclear(meta);
    pg_rollback(&s->base);
    return rc;
}

/* The rules the store was created with, after checking (and, unless the
 * server is a standby, migrating) its schema version. */
static int load_rules(pg_store *s, int standby, char *err, size_t errlen)
{
    PGresult *r = NULL;
    long version = 0, cc = 0, aging = 0, tz = 0;
    int rc = read_meta(s, &r, &version, err, errlen);
    if (rc == SN_OK && standby && version < SCHEMA_VERSION)
        rc = sn_fail(err, errlen, SN_ESTORE,
                     "the standby's store is schema version %ld, this build reads %d: open the "
                     "primary with this version first",
                     version, SCHEMA_VERSION);
    if (rc == SN_OK && version >= BASE_VERSION && version < SCHEMA_VERSION) {
        PQclear(r);
        r = NULL;
        if ((rc = migrate(s, err, errlen)) == SN_OK)
            rc = read_meta(s, &r, &version, err, errlen);
    }
    if (rc != SN_OK)
        goto out;
    if (version != SCHEMA_VERSION) {
        rc = sn_fail(err, errlen, SN_ESTORE, "store schema version %ld, this build reads %d",
                     version, SCHEMA_VERSION);
        goto out;
    }
    if ((rc = meta_value(r, "country_code", &cc, err, errlen)) != SN_OK ||
        (rc = meta_value(r, "min_aging_days", &aging, err, errlen)) != SN_OK ||
        (rc = meta_value(r, "tz_minutes", &tz, err, errlen)) != SN_OK)
        goto out;
    s->base.rules.default_cc = (unsigned)cc;
    s->base.rules.min_aging_days = (unsigned)aging;
    s->base.rules.tz_minutes = (int)tz;
out:
    PQclear(r);
    return rc;
}

/* A hot standby (serve --follow): the handle only reads. Its session
 * refuses writes itself (default_transaction_read_only), and the open
 * neither creates nor migrates a schema there: *standby says so. */
static int check_standby(pg_store *s, int *standby, char *err, size_t errlen)
{
    PGresult *r = PQexec(s->conn, "SELECT pg_is_in_recovery()");
    int rc = SN_OK, schema = 0;
    *standby = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pg_fail(s, r, "cannot read the database", err, errlen);
    else
        *standby = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (rc != SN_OK || !*standby)
        return rc;
    if ((rc = pg_exec_sql(s, "SET default_transaction_read_only = on", "configure", err, errlen)) !=
            SN_OK ||
        (rc = has_schema(s, &schema, err, errlen)) != SN_OK)
        return rc;
    return schema ? SN_OK
                  : sn_fail(err, errlen, SN_ESTORE,
                            "the standby has no secondnum schema yet: open the primary first");
}

/* Connect with bounds on waiting for a server that does not answer: a
 * connection attempt gives up after CONNECT_TIMEOUT_S (PQreset reuses the
 * setting, so a reconnect does too), and TCP keepalives notice a peer gone
 * silent in about a minute rather than TCP's default two hours. The URL's
 * own settings win: its parameters are applied after these (the dbname
 * entry carries the whole URL and comes last). */
#define CONNECT_TIMEOUT_S "10"
static PGconn *connect_with_defaults(const char *url)
{
    const char *const keys[] = {"connect_timeout",  "keepalives_idle", "keepalives_interval",
                                "keepalives_count", "dbname",          NULL};
    const char *const values[] = {CONNECT_TIMEOUT_S, "30", "10", "3", url, NULL};
    return PQconnectdbParams(keys, values, 1);
}

int sn_store_pg_open(const char *url, const sn_rules *rules, sn_store **out, char *err,
                     size_t errlen)
{
    static const sn_rules defaults = {SN_DEFAULT_CC, SN_DEFAULT_MIN_AGING_DAYS,
                                      SN_DEFAULT_TZ_MINUTES};
    pg_store *s = calloc(1, sizeof(*s));
    int rc;
    *out = NULL;
    if (s == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    s->base.be = &pg_backend;
    s->events_sorted = 1;
    s->conn = connect_with_defaults(url);
    if (s->conn == NULL) {
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory");
        goto fail;
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        /* the message names host, port and database, never the password */
        const char *msg = PQerrorMessage(s->conn);
        rc = sn_fail(err, errlen, SN_ESTORE, "cannot connect to PostgreSQL: %.*s", pg_line_len(msg),
                     msg);
        goto fail;
    }
    int standby = 0;
    if ((rc = pg_configure(s, err, errlen)) != SN_OK ||
        (rc = check_standby(s, &standby, err, errlen)) != SN_OK ||
        (!standby &&
         (rc = ensure_schema(s, rules != NULL ? rules : &defaults, err, errlen)) != SN_OK) ||
        (rc = load_rules(s, standby, err, errlen)) != SN_OK)
        goto fail;
    *out = &s->base;
    return SN_OK;
fail:
    pg_close(&s->base);
    return rc;
}
