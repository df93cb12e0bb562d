/*
 * store_pg.c - the PostgreSQL store (libpq), chosen by a postgres:// or
 * postgresql:// URL in place of a file name. Same interface, same
 * semantics and error codes as store_sqlite.c; docs/internals/postgres.md
 * explains the choices.
 *
 * Schema (version 4; versions 2 and 3 are SQLite's, for the same tables):
 *   meta, carriers, events, numbers, api_keys, ranges, apps, bindings,
 *   notices, deliveries (version 2), sms, otp, rate_limits, sessions,
 *   requests, complaints (version 3): the tables, keys and partial indexes
 *   of the SQLite store, with the same integer keys (events.id = number << 13
 *   | ordinal). Version 4, PostgreSQL's own: numbers.seq, the change number
 *   serve nodes follow each other's writes by (sequence number_changes). A
 *   new store is the version 2 schema plus every migration step, so new and
 *   migrated stores are the same.
 *   Text columns use the "C" collation so every ORDER BY sorts bytes, as
 *   SQLite does. Ids (carriers, apps, keys, notices, sms, requests,
 *   complaints) are max(id) + 1 taken under the writer lock (below), like
 *   SQLite's rowids: dense, in commit order, no gaps after a rollback.
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
 *
 * Speed: a round trip costs more than SQLite's function call, so
 *   - every statement is prepared once per connection, on first use, and
 *     runs with binary parameters and results;
 *   - inside a transaction, appended events and written states are
 *     buffered and sent in one go (binary COPY for new rows, a pipeline of
 *     upserts for the others) before SQL that reads those tables, at
 *     commit, or every BUFFER_ROWS rows; a write error is then reported by
 *     that later call (the batch fails all the same);
 *   - where rows cannot change between calls (in a transaction, under the
 *     writer lock, or a snapshot), get_state, find_event and scan_events
 *     read ahead: the next rows in key order in one round trip, answering
 *     the following calls (the ledger and verify walk numbers in order);
 *     the buffers are looked up first, and a flush moves the windows past
 *     what it sent;
 *   - scan_states reads through a server-side cursor, SCAN_ROWS rows per
 *     fetch, so memory stays flat at any store size and the callback may
 *     use the handle (verify replays each number's events meanwhile).
 *
 * Thread-safety: a handle (one connection) belongs to one thread at a time.
 */
#include "store/backend.h"

#include "core/errors.h"
#include "util/grow.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int sn_store_pg_open(const char *url, const sn_rules *rules, sn_store **out, char *err,
                     size_t errlen);

#define SCHEMA_VERSION 4
#define BASE_VERSION 2 /* what schema_sql creates; migrations[] takes it on */
#define WRITER_LOCK 8317635505380681573 /* "sn-ledge": the advisory lock writers take */
/* A delivery's claim is the session advisory lock CLAIM_LOCKS + notice id
 * ("snd" in the top bits; notice ids stay below 2^40). */
#define CLAIM_LOCKS 8317695512962662400
#define LOCK_TIMEOUT "10s"                /* as SQLite's busy timeout */
#define SCAN_ROWS 10000                   /* rows per cursor fetch */
#define BUFFER_ROWS 65536                 /* buffered events or states before a flush */
#define COPY_MIN_ROWS 64                  /* fewer rows go in a pipeline of INSERTs */
#define PIPELINE_MAX 512                  /* statements per pipeline sync */
#define COPY_CHUNK (256 * 1024)           /* COPY bytes handed to libpq at once */
#define WINDOW_MIN 64                     /* rows a read-ahead window starts with */
#define WINDOW_MAX 8192                   /* and grows to while it pays */
#define MAX_PARAMS 10
#define CHANGES_CHANNEL "secondnum_changes" /* NOTIFYed by each commit that wrote states */
#define ORDINAL_BITS 13
#define SN_PG_STR_(x) #x
#define SN_PG_STR(x) SN_PG_STR_(x)

enum {
    Q_BEGIN_STATE,
    Q_GET_STATE,
    Q_PUT_STATE,
    Q_FIND_EVENT,
    Q_APPEND_EVENT,
    Q_SCAN_EVENTS,
    Q_STATE_WINDOW,
    Q_EVENT_WINDOW,
    Q_CARRIER_GET,
    Q_CARRIER_ADD,
    Q_KEY_ADD,
    Q_KEY_LIST,
    Q_KEY_REVOKE,
    Q_RANGE_ADD,
    Q_RANGE_LIST,
    Q_APP_GET,
    Q_APP_ADD,
    Q_APP_READ,
    Q_APP_WEBHOOK,
    Q_APP_SUBSCRIBE,
    Q_BIND_PUT,
    Q_BIND_DELETE,
    Q_BIND_LIST,
    Q_MAX_NOTICE,
    Q_ISSUE_CANCELLED,
    Q_ISSUE_REASSIGNED,
    Q_ISSUE_SUBSCRIBED,
    Q_ISSUE_DELIVERIES,
    Q_OPEN_CANCELLATIONS,
    Q_NOTICES,                     /* + filter * 2 + (app != 0): eight variants */
    Q_NOTICE_GET = Q_NOTICES + 8,
    Q_NOTICE_ACK,
    Q_DUE,
    Q_DELIVERY_PUT,
    Q_UNCLAIM,
    Q_RECHECK,
    Q_DELIVERIES,                  /* + (app != 0) */
    Q_DELIVERY_COUNTS = Q_DELIVERIES + 2,
    Q_NEXT_DELIVERY,
    Q_DISCONNECTIONS,
    Q_APP_STATS,
    Q_SMS_ADD,
    Q_SMS_LIST,
    Q_SMS_DUE,
    Q_SMS_UPDATE,
    Q_OTP_GET,
    Q_OTP_PUT,
    Q_OTP_DELETE,
    Q_RATE_HIT,
    Q_SESSION_PUT,
    Q_SESSION_GET,
    Q_SESSION_DELETE,
    Q_PURGE_SESSIONS,
    Q_PURGE_OTP,
    Q_PURGE_RATES,
    Q_NUMBER_BINDINGS,
    Q_APP_DISPLAY_SET,
    Q_APP_DISPLAY_GET,
    Q_REQUEST_ADD,
    Q_REQUEST_NOTICES,
    Q_REQUEST_LIST,
    Q_COMPLAINT_ADD,
    Q_COMPLAINT_GET,
    Q_COMPLAINT_RESOLVE,
    Q_CHANGE_CURSOR,
    Q_CHANGES,
    Q_NOTIFY_CHANGES,
    Q_COUNT
};

/* A statement and its parameter types: i int8, t text, b bytea (all sent in
 * binary; integer columns narrower than int8 take them by assignment). */
typedef struct {
    const char *sql;
    const char *types;
} query;

#define STATE_COLUMNS                                                                          \
    "status, first_is_activation, tenure, carrier, events, first_day, last_activation_day, "  \
    "last_cancel_day, last_at"
#define APP_COLUMNS "a.id, a.name, a.webhook_url, a.webhook_secret, a.sub_cancel, a.sub_reissue"
#define APP_NCOLUMNS 6
#define NOTICE_COLUMNS                                                                         \
    "n.id, n.app, n.number, n.kind, n.source, n.event, n.outcome, n.account, n.tenure, "       \
    "n.event_at, n.created, n.deadline, n.acked_at, n.note, a.name"
#define NOTICE_NCOLUMNS 15
#define DELIVERY_COLUMNS                                                                       \
    "d.notice, d.app, d.number, d.state, d.attempts, d.first_at, d.next_at, d.last_error"
#define DELIVERY_NCOLUMNS 8
#define DELIVERY_ATTEMPTS_COLUMN 4

#define SMS_COLUMNS                                                                            \
    "id, number, purpose, state, lang, body, created, attempts, next_at, sent_at, error"
#define COMPLAINT_COLUMNS                                                                      \
    "c.id, c.number, c.tenure, c.app, c.carrier, c.kind, c.resolved_level, c.created, "        \
    "c.period, c.resolved_at, c.body, c.resolution, coalesce(a.name, ''), "                    \
    "coalesce(a.display_name, ''), coalesce(k.name, '') FROM complaints c LEFT JOIN apps a "   \
    "ON a.id = c.app LEFT JOIN carriers k ON k.id = c.carrier"
/* The level a complaint has reached by time T (its resolution, or now, $5):
 * one step per period, from the app (or the carrier when it names none). */
#define COMPLAINT_LEVEL_SQL                                                                    \
    "((c.app = 0)::int + (coalesce(nullif(c.resolved_at, 0), $5) - c.created) / c.period)"

/* The next id of a table whose ids are max + 1 (callers hold the writer lock). */
#define NEXT_ID(table) "(SELECT coalesce(max(id), 0) + 1 FROM " table ")"

#define ISSUE_BINDING_SQL(kind, tenure_test)                                                   \
    "INSERT INTO notices(id, app, number, kind, source, event, event_at, tenure, account, "    \
    "created, deadline) SELECT (SELECT coalesce(max(id), 0) FROM notices) + row_number() "     \
    "OVER (ORDER BY app, account), app, number, " kind ", 1, $2, $3, tenure, account, $5, $6 " \
    "FROM bindings WHERE number = $1 AND " tenure_test

#define NOTICES_SQL(app_test, filter)                                                          \
    "SELECT " NOTICE_COLUMNS " FROM notices n JOIN apps a ON a.id = n.app WHERE " app_test     \
    " n.id > $2" filter " ORDER BY n.id LIMIT $3"
#define NOTICES_OPEN " AND n.outcome = 0 AND (n.deadline = 0 OR n.deadline >= $4)"
#define NOTICES_ACKED " AND n.outcome <> 0"
#define NOTICES_OVERDUE " AND n.outcome = 0 AND n.deadline > 0 AND n.deadline < $4"

#define DELIVERIES_SQL(app_test)                                                               \
    "SELECT " DELIVERY_COLUMNS ", a.name FROM deliveries d JOIN apps a ON a.id = d.app WHERE " \
    app_test " d.state = $2 AND d.notice > $3 ORDER BY d.notice LIMIT $4"

static const query queries[Q_COUNT] = {
    [Q_BEGIN_STATE] = {"SELECT (SELECT coalesce(max(number), 0) FROM numbers), "
                       "EXISTS (SELECT 1 FROM bindings), EXISTS (SELECT 1 FROM apps WHERE "
                       "sub_cancel = 1 OR sub_reissue = 1), EXISTS (SELECT 1 FROM notices "
                       "WHERE outcome = 0 AND deadline > 0)",
                       ""},
    [Q_GET_STATE] = {"SELECT " STATE_COLUMNS " FROM numbers WHERE number = $1", "i"},
    [Q_PUT_STATE] = {"INSERT INTO numbers(number, " STATE_COLUMNS ") VALUES ($1, $2, $3, $4, "
                     "$5, $6, $7, $8, $9, $10) ON CONFLICT (number) DO UPDATE SET "
                     "status = EXCLUDED.status, first_is_activation = "
                     "EXCLUDED.first_is_activation, tenure = EXCLUDED.tenure, carrier = "
                     "EXCLUDED.carrier, events = EXCLUDED.events, first_day = "
                     "EXCLUDED.first_day, last_activation_day = EXCLUDED.last_activation_day, "
                     "last_cancel_day = EXCLUDED.last_cancel_day, last_at = EXCLUDED.last_at, "
                     "seq = EXCLUDED.seq", /* the row's new change number (its default) */
                     "iiiiiiiiii"},
    [Q_FIND_EVENT] = {"SELECT event_id FROM events WHERE id BETWEEN $1 AND $2 AND at = $3 "
                      "AND kind = $4",
                      "iiii"},
    [Q_APPEND_EVENT] = {"INSERT INTO events(id, at, kind, carrier, event_id, id6_hash, flags) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        "iiiitbi"},
    [Q_SCAN_EVENTS] = {"SELECT at, id, kind, carrier, event_id, id6_hash, flags FROM events "
                       "WHERE id BETWEEN $1 AND $2 ORDER BY id",
                       "ii"},
    [Q_STATE_WINDOW] = {"SELECT number, " STATE_COLUMNS " FROM numbers WHERE number >= $1 "
                        "ORDER BY number LIMIT $2",
                        "ii"},
    [Q_EVENT_WINDOW] = {"SELECT at, id, kind, carrier, event_id, id6_hash, flags FROM events "
                        "WHERE id >= $1 ORDER BY id LIMIT $2",
                        "ii"},
    [Q_CARRIER_GET] = {"SELECT id FROM carriers WHERE name = $1", "t"},
    [Q_CARRIER_ADD] = {"INSERT INTO carriers(id, name) SELECT " NEXT_ID("carriers") ", $1 "
                       "WHERE NOT EXISTS (SELECT 1 FROM carriers WHERE name = $1) RETURNING id",
                       "t"},
    [Q_KEY_ADD] = {"INSERT INTO api_keys(id, name, role, carrier, hash) VALUES "
                   "(" NEXT_ID("api_keys") ", $1, $2, $3, $4) RETURNING id",
                   "tiib"},
    [Q_KEY_LIST] = {"SELECT id, name, role, carrier, hash, revoked FROM api_keys ORDER BY id", ""},
    [Q_KEY_REVOKE] = {"UPDATE api_keys SET revoked = 1 WHERE id = $1", "i"},
    [Q_RANGE_ADD] = {"INSERT INTO ranges(carrier, prefix) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                     "it"},
    [Q_RANGE_LIST] = {"SELECT c.id, c.name, r.prefix FROM carriers c LEFT JOIN ranges r "
                      "ON r.carrier = c.id ORDER BY c.id, r.prefix NULLS FIRST",
                      ""},
    [Q_APP_GET] = {"SELECT id FROM apps WHERE name = $1", "t"},
    [Q_APP_ADD] = {"INSERT INTO apps(id, name) SELECT " NEXT_ID("apps") ", $1 WHERE NOT EXISTS "
                   "(SELECT 1 FROM apps WHERE name = $1) RETURNING id",
                   "t"},
    [Q_APP_READ] = {"SELECT " APP_COLUMNS " FROM apps a WHERE a.id = $1", "i"},
    [Q_APP_WEBHOOK] = {"UPDATE apps SET webhook_url = $2, webhook_secret = $3 WHERE id = $1",
                       "itt"},
    [Q_APP_SUBSCRIBE] = {"UPDATE apps SET sub_cancel = $2, sub_reissue = $3 WHERE id = $1", "iii"},
    [Q_BIND_PUT] = {"INSERT INTO bindings(number, app, account, bound_at, tenure) VALUES ($1, $2, "
                    "$3, $4, $5) ON CONFLICT (number, app, account) DO UPDATE SET bound_at = "
                    "EXCLUDED.bound_at, tenure = EXCLUDED.tenure",
                    "iibii"},
    [Q_BIND_DELETE] = {"DELETE FROM bindings WHERE number = $1 AND app = $2 AND account = $3",
                       "iib"},
    [Q_BIND_LIST] = {"SELECT account, bound_at, tenure FROM bindings WHERE number = $1 AND "
                     "app = $2 ORDER BY account",
                     "ii"},
    [Q_MAX_NOTICE] = {"SELECT coalesce(max(id), 0) FROM notices", ""},
    /* Binding notices select bindings by tenure: the cancelled one, or below the new one. */
    [Q_ISSUE_CANCELLED] = {ISSUE_BINDING_SQL("1", "tenure = $4"), "iiiiii"},
    [Q_ISSUE_REASSIGNED] = {ISSUE_BINDING_SQL("2", "tenure < $4"), "iiiiii"},
    /* $7 = kind; subscribed apps that got no binding notice for this event */
    [Q_ISSUE_SUBSCRIBED] = {"INSERT INTO notices(id, app, number, kind, source, event, "
                            "event_at, tenure, account, created, deadline) SELECT (SELECT "
                            "coalesce(max(id), 0) FROM notices) + row_number() OVER (ORDER BY "
                            "id), id, $1, $7, 2, $2, $3, $4, NULL, $5, 0 FROM apps WHERE "
                            "(CASE $7 WHEN 1 THEN sub_cancel ELSE sub_reissue END) = 1 AND id "
                            "NOT IN (SELECT app FROM bindings WHERE number = $1 AND (CASE $7 "
                            "WHEN 1 THEN tenure = $4 ELSE tenure < $4 END))",
                            "iiiiiii"},
    [Q_ISSUE_DELIVERIES] = {"INSERT INTO deliveries(notice, app, number, state, attempts, "
                            "first_at, next_at) SELECT n.id, n.app, n.number, 0, 0, 0, $2 FROM "
                            "notices n JOIN apps a ON a.id = n.app WHERE n.id > $1 AND "
                            "a.webhook_url IS NOT NULL",
                            "ii"},
    [Q_OPEN_CANCELLATIONS] = {"SELECT count(DISTINCT app), coalesce(max(deadline), 0) FROM "
                              "notices WHERE number = $1 AND kind = 1 AND source = 1 AND "
                              "outcome = 0 AND deadline > $2",
                              "ii"},
    [Q_NOTICES + 0] = {NOTICES_SQL("", ""), "iiii"},
    [Q_NOTICES + 1] = {NOTICES_SQL("n.app = $1 AND", ""), "iiii"},
    [Q_NOTICES + 2] = {NOTICES_SQL("", NOTICES_OPEN), "iiii"},
    [Q_NOTICES + 3] = {NOTICES_SQL("n.app = $1 AND", NOTICES_OPEN), "iiii"},
    [Q_NOTICES + 4] = {NOTICES_SQL("", NOTICES_ACKED), "iiii"},
    [Q_NOTICES + 5] = {NOTICES_SQL("n.app = $1 AND", NOTICES_ACKED), "iiii"},
    [Q_NOTICES + 6] = {NOTICES_SQL("", NOTICES_OVERDUE), "iiii"},
    [Q_NOTICES + 7] = {NOTICES_SQL("n.app = $1 AND", NOTICES_OVERDUE), "iiii"},
    [Q_NOTICE_GET] = {"SELECT " NOTICE_COLUMNS " FROM notices n JOIN apps a ON a.id = n.app "
                      "WHERE n.id = $1",
                      "i"},
    [Q_NOTICE_ACK] = {"UPDATE notices SET outcome = $2, note = $3, acked_at = $4 WHERE id = $1",
                      "iiti"},
    /* The cursor (next_at, notice) is one row comparison: the B-tree on
     * (next_at, notice) seeks it directly. */
    /* The claim is taken in the outer query, so only on the rows returned
     * (a volatile function is never pushed into the LIMITed subquery). */
    [Q_DUE] = {"SELECT q.*, pg_try_advisory_lock(" SN_PG_STR(CLAIM_LOCKS) " + q.notice) FROM ("
               "SELECT " DELIVERY_COLUMNS ", " NOTICE_COLUMNS ", " APP_COLUMNS " FROM "
               "deliveries d JOIN notices n ON n.id = d.notice JOIN apps a ON a.id = d.app "
               "WHERE d.state = 0 AND (d.next_at, d.notice) > ($3, $4) AND d.next_at <= $1 "
               "AND d.number % $6 = $5 AND a.webhook_url IS NOT NULL AND NOT EXISTS (SELECT 1 "
               "FROM deliveries e WHERE e.state = 0 AND e.app = d.app AND e.number = d.number "
               "AND e.notice < d.notice) AND d.notice <> ALL ($7::bigint[]) "
               "ORDER BY d.next_at, d.notice LIMIT $2) q",
               "iiiiiit"},
    /* A claimed delivery as it is now (a statement after the claim, so a
     * snapshot that sees what the node that held it before committed). */
    [Q_RECHECK] = {"SELECT notice, attempts FROM deliveries WHERE notice = ANY ($1::bigint[]) "
                   "AND state = 0",
                   "t"},
    [Q_UNCLAIM] = {"SELECT count(pg_advisory_unlock(" SN_PG_STR(CLAIM_LOCKS) " + x)) "
                   "FROM unnest($1::bigint[]) x",
                   "t"},
    [Q_DELIVERY_PUT] = {"UPDATE deliveries SET state = $2, attempts = $3, first_at = $4, "
                        "next_at = $5, last_error = $6 WHERE notice = $1",
                        "iiiiit"},
    [Q_DELIVERIES + 0] = {DELIVERIES_SQL(""), "iiii"},
    [Q_DELIVERIES + 1] = {DELIVERIES_SQL("d.app = $1 AND"), "iiii"},
    [Q_DELIVERY_COUNTS] = {"SELECT state, count(*) FROM deliveries WHERE app = $1 GROUP BY state",
                           "i"},
    [Q_NEXT_DELIVERY] = {"SELECT coalesce(min(next_at), 0) FROM deliveries WHERE state = 0", ""},
    [Q_DISCONNECTIONS] = {"SELECT number, last_cancel_day, last_activation_day, tenure, "
                          "first_is_activation FROM numbers WHERE number > $2 AND "
                          "((last_cancel_day <> $4 AND last_cancel_day >= $1) OR "
                          "(last_activation_day <> $4 AND last_activation_day >= $1 AND "
                          "(tenure > 1 OR first_is_activation = 0))) ORDER BY number LIMIT $3",
                          "iiii"},
    [Q_APP_STATS] = {"SELECT a.id, a.name, a.webhook_url,"
                     " (SELECT count(*) FROM bindings b WHERE b.app = a.id),"
                     " (SELECT count(DISTINCT number) FROM bindings b WHERE b.app = a.id),"
                     " (SELECT count(*) FROM notices n WHERE n.app = a.id),"
                     " (SELECT count(*) FROM notices n WHERE n.app = a.id AND n.outcome <> 0),"
                     " (SELECT count(*) FROM notices n WHERE n.app = a.id AND n.outcome = 0 AND"
                     "  n.deadline > 0 AND n.deadline < $1),"
                     " (SELECT count(*) FROM deliveries d WHERE d.app = a.id AND d.state = 0),"
                     " (SELECT count(*) FROM deliveries d WHERE d.app = a.id AND d.state = 2)"
                     " FROM apps a ORDER BY a.name",
                     "i"},
    [Q_SMS_ADD] = {"INSERT INTO sms(id, number, purpose, state, lang, body, created, next_at) "
                   "VALUES (" NEXT_ID("sms") ", $1, $2, $3, $4, $5, $6, $7) RETURNING id",
                   "iiittii"},
    [Q_SMS_LIST] = {"SELECT " SMS_COLUMNS " FROM sms WHERE ($1 = 0 OR number = $1) AND "
                    "($2 < 0 OR state = $2) AND id > $3 ORDER BY id LIMIT $4",
                    "iiii"},
    [Q_SMS_DUE] = {"SELECT " SMS_COLUMNS " FROM sms WHERE state = 0 AND next_at <= $1 "
                   "ORDER BY next_at, id LIMIT $2",
                   "ii"},
    [Q_SMS_UPDATE] = {"UPDATE sms SET state = $2, attempts = $3, next_at = $4, sent_at = $5, "
                      "error = $6, body = CASE WHEN $2 IN (1, 2) THEN NULL ELSE body END "
                      "WHERE id = $1",
                      "iiiiit"},
    [Q_OTP_GET] = {"SELECT code_hash, created, expires, attempts, locked_until, lang FROM otp "
                   "WHERE number = $1",
                   "i"},
    [Q_OTP_PUT] = {"INSERT INTO otp(number, code_hash, created, expires, attempts, locked_until, "
                   "lang) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (number) DO UPDATE SET "
                   "code_hash = EXCLUDED.code_hash, created = EXCLUDED.created, expires = "
                   "EXCLUDED.expires, attempts = EXCLUDED.attempts, locked_until = "
                   "EXCLUDED.locked_until, lang = EXCLUDED.lang",
                   "ibiiiit"},
    [Q_OTP_DELETE] = {"DELETE FROM otp WHERE number = $1", "i"},
    [Q_RATE_HIT] = {"INSERT INTO rate_limits AS r(bucket, win_start, hits) VALUES ($1, $2, 1) "
                    "ON CONFLICT (bucket) DO UPDATE SET hits = CASE WHEN r.win_start = $2 "
                    "THEN r.hits + 1 ELSE 1 END, win_start = $2 RETURNING hits",
                    "ti"},
    [Q_SESSION_PUT] = {"INSERT INTO sessions(token_hash, number, tenure, cancel_day, created, "
                       "expires, lang) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                       "biiiiit"},
    [Q_SESSION_GET] = {"SELECT number, tenure, cancel_day, created, expires, lang FROM sessions "
                       "WHERE token_hash = $1",
                       "b"},
    [Q_SESSION_DELETE] = {"DELETE FROM sessions WHERE token_hash = $1", "b"},
    /* rate-limit windows are at most an hour long: rows two hours old are dead */
    [Q_PURGE_SESSIONS] = {"DELETE FROM sessions WHERE expires < $1", "i"},
    [Q_PURGE_OTP] = {"DELETE FROM otp WHERE expires < $1 AND locked_until < $1", "i"},
    [Q_PURGE_RATES] = {"DELETE FROM rate_limits WHERE win_start < $1 - 7200", "i"},
    [Q_NUMBER_BINDINGS] = {"SELECT b.app, b.account, b.bound_at, b.tenure, a.name, "
                           "coalesce(a.display_name, '') FROM bindings b JOIN apps a ON "
                           "a.id = b.app WHERE b.number = $1 ORDER BY a.name, b.bound_at",
                           "i"},
    [Q_APP_DISPLAY_SET] = {"UPDATE apps SET display_name = nullif($2, '') WHERE id = $1", "it"},
    [Q_APP_DISPLAY_GET] = {"SELECT coalesce(display_name, '') FROM apps WHERE id = $1", "i"},
    [Q_REQUEST_ADD] = {"INSERT INTO requests(id, number, tenure, app, scope, created, deadline) "
                       "VALUES (" NEXT_ID("requests") ", $1, $2, $3, $4, $5, $6) RETURNING id",
                       "iiiiii"},
    /* one unbind_request per binding in scope that has none open already */
    [Q_REQUEST_NOTICES] = {"INSERT INTO notices(id, app, number, kind, source, event, event_at, "
                           "tenure, account, created, deadline, request) SELECT (SELECT "
                           "coalesce(max(id), 0) FROM notices) + row_number() OVER (ORDER BY "
                           "b.account), b.app, b.number, 3, 1, 0, $5, b.tenure, b.account, $5, "
                           "$6, $7 FROM bindings b WHERE b.number = $1 AND b.app = $2 AND "
                           "(CASE $3 WHEN 1 THEN b.tenure < $4 ELSE b.tenure = $4 END) AND NOT "
                           "EXISTS (SELECT 1 FROM notices n WHERE n.number = b.number AND "
                           "n.outcome = 0 AND n.app = b.app AND n.kind = 3 AND n.account = "
                           "b.account)",
                           "iiiiiii"},
    [Q_REQUEST_LIST] = {"SELECT r.id, r.app, r.scope, r.created, r.deadline, a.name, "
                        "coalesce(a.display_name, ''), count(n.id), "
                        "count(n.id) FILTER (WHERE n.outcome <> 0), "
                        "count(n.id) FILTER (WHERE n.outcome = 1), "
                        "count(n.id) FILTER (WHERE n.outcome = 2), "
                        "count(n.id) FILTER (WHERE n.outcome = 3), "
                        "count(n.id) FILTER (WHERE n.outcome = 4) FROM requests r JOIN apps a "
                        "ON a.id = r.app LEFT JOIN notices n ON n.request = r.id WHERE "
                        "r.number = $1 AND r.tenure = $2 GROUP BY r.id, a.id "
                        "ORDER BY r.id DESC LIMIT $3",
                        "iii"},
    [Q_COMPLAINT_ADD] = {"INSERT INTO complaints(id, number, tenure, app, carrier, kind, body, "
                         "created, period) VALUES (" NEXT_ID("complaints") ", $1, $2, $3, $4, "
                         "$5, $6, $7, $8) RETURNING id",
                         "iiiiitii"},
    [Q_COMPLAINT_GET] = {"SELECT " COMPLAINT_COLUMNS " WHERE c.id = $1", "i"},
    [Q_COMPLAINT_RESOLVE] = {"UPDATE complaints SET resolved_at = $2, resolved_level = $3, "
                             "resolution = $4 WHERE id = $1 AND resolved_at = 0",
                             "iiit"},
    [Q_CHANGE_CURSOR] = {"SELECT coalesce(max(seq), 0) FROM numbers", ""},
    [Q_CHANGES] = {"SELECT seq, number, " STATE_COLUMNS " FROM numbers WHERE seq > $1 "
                   "ORDER BY seq LIMIT $2",
                   "ii"},
    [Q_NOTIFY_CHANGES] = {"SELECT pg_notify('" CHANGES_CHANNEL "', '')", ""},
};

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

/* migrations[v] takes a store from version v to v + 1, in the transaction
 * (under the writer lock) that also records the new version. */
static const char *const migrations[SCHEMA_VERSION] = {
    [2] = "ALTER TABLE notices ADD COLUMN request bigint NOT NULL DEFAULT 0;"
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
};

/* The tables integrity() expects and amcheck walks. */
static const char *const tables[] = {
    "meta",     "carriers", "events",  "numbers",  "api_keys",    "ranges",
    "apps",     "bindings", "notices", "deliveries", "sms",       "otp",
    "rate_limits", "sessions", "requests", "complaints"};

/* An appended event waiting for the next flush (its event id copied). */
typedef struct {
    int64_t id, at;
    uint32_t carrier;
    uint8_t kind, flags, has_id6, has_event_id;
    uint32_t event_id_len;
    char event_id[SN_EVENT_ID_MAX];
    uint8_t id6_hash[SN_ID6_HASH_LEN];
} pending_event;

/* A written state waiting for the next flush; fresh: no row existed when it
 * was written (its number was above every stored one), so COPY may insert it. */
typedef struct {
    sn_number_state st;
    int fresh;
} pending_state;

typedef struct {
    unsigned char *data;
    size_t len, cap;
    int failed;
} byte_buf;

/* Read-ahead: the rows of a table from key lo on, fetched in one round trip
 * and kept while they cannot change under us (inside a transaction holding
 * the writer lock, or a read-only snapshot). Every stored row with a key in
 * [lo, hi] is in `rows`. This handle's own writes are looked up in the
 * buffers first, and a flush moves lo above every row it sent. */
typedef struct {
    PGresult *rows; /* in key order; NULL: no window */
    int first;      /* rows before it fell below lo */
    int64_t lo, hi;
    int limit;      /* rows the next fill asks for (0: WINDOW_MIN) */
    int hits;       /* lookups this window answered */
} read_window;

typedef struct {
    uint64_t *v;
    size_t n, cap;
} id_set;

typedef struct {
    struct sn_store base;
    PGconn *conn;
    uint8_t prepared[Q_COUNT];
    int in_tx;
    int scans;   /* scan_states cursors open on this handle */
    int relaxed; /* relax_durability was called: reapplied after a reconnect */
    /* Deliveries this connection holds claims on (session advisory locks),
     * and those whose outcome the open transaction wrote: their claims are
     * released once it commits. */
    id_set claimed, written;
    /* Inside a write transaction: no number above max_number has a state
     * (counting buffered writes), so get_state answers UNSEEN without asking;
     * table_max is the same for rows already sent. Read at begin under the
     * writer lock, kept up to date by this transaction's writes. */
    sn_number max_number, table_max;
    /* As in SQLite: does any binding, subscription or open notice exist?
     * When not, an event costs the notice machinery nothing. */
    int any_bindings, any_subscriptions, any_open_notices;
    pending_event *events;
    size_t nevents, events_cap;
    int events_sorted; /* the buffered events are in increasing id order */
    pending_state *states; /* in increasing number order, each number once */
    size_t nstates, states_cap;
    byte_buf copy;
    int snapshot; /* a read-only snapshot of this handle's own is open (scans) */
    read_window state_w, event_w;
    int notified;   /* this transaction sent its NOTIFY of changed states */
    int listen_pid; /* the server process LISTENing for changes (0: none) */
} pg_store;

static pg_store *to_pg(sn_store *s)
{
    return (pg_store *)s;
}

/* ---- errors, parameters, results --------------------------------------- */

static int line_len(const char *s)
{
    size_t n = strcspn(s, "\n");
    return n > 400 ? 400 : (int)n;
}

/* SN_ESTORE with `what` and PostgreSQL's primary message (or libpq's). */
static int pg_fail(pg_store *s, const PGresult *r, char *err, size_t errlen, const char *what)
{
    const char *msg = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (msg == NULL || msg[0] == '\0')
        msg = PQerrorMessage(s->conn);
    if (msg == NULL || msg[0] == '\0')
        msg = r != NULL ? PQresStatus(PQresultStatus(r)) : "no result";
    return sn_fail(err, errlen, SN_ESTORE, "%s: %.*s", what, line_len(msg), msg);
}

typedef struct {
    int n;
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS];
    int formats[MAX_PARAMS];
    char ints[MAX_PARAMS][8];
} params;

static void put_be(unsigned char *dst, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        dst[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_be(const unsigned char *src, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | src[i];
    return v;
}

static void p_int(params *p, int64_t v)
{
    int i = p->n++;
    put_be((unsigned char *)p->ints[i], (uint64_t)v, 8);
    p->values[i] = p->ints[i];
    p->lengths[i] = 8;
    p->formats[i] = 1;
}

/* Text or bytea, in binary format (the bytes themselves); NULL is SQL NULL. */
static void p_bytes(params *p, const void *data, size_t len)
{
    int i = p->n++;
    p->values[i] = data;
    p->lengths[i] = data != NULL ? (int)len : 0;
    p->formats[i] = 1;
}

static void p_text(params *p, const char *s)
{
    p_bytes(p, s, s != NULL ? strlen(s) : 0);
}

/* An integer column of any width (binary int2/int4/int8, or bool); NULL is 0. */
static int64_t col_int(const PGresult *r, int row, int col)
{
    const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
    switch (PQgetisnull(r, row, col) ? 0 : PQgetlength(r, row, col)) {
    case 1: return v[0];
    case 2: return (int16_t)get_be(v, 2);
    case 4: return (int32_t)get_be(v, 4);
    case 8: return (int64_t)get_be(v, 8);
    default: return 0;
    }
}

/* Text columns: "" for NULL (as SQLite's copy of a NULL column), truncated to cap. */
static void copy_text(char *dst, size_t cap, const PGresult *r, int row, int col)
{
    snprintf(dst, cap, "%.*s", PQgetlength(r, row, col), PQgetvalue(r, row, col));
}

/* Copy a bytea column of exactly len bytes; returns 0 (and copies nothing) otherwise. */
static int copy_bytes(uint8_t *dst, size_t len, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col) || (size_t)PQgetlength(r, row, col) != len)
        return 0;
    memcpy(dst, PQgetvalue(r, row, col), len);
    return 1;
}

static uint64_t affected(const PGresult *r)
{
    return strtoull(PQcmdTuples((PGresult *)r), NULL, 10);
}

/* ---- running statements ------------------------------------------------ */

static int prepare(pg_store *s, int q, char *err, size_t errlen)
{
    enum { INT8 = 20, TEXT = 25, BYTEA = 17 };
    Oid types[MAX_PARAMS];
    char name[16];
    int n = 0;
    for (const char *t = queries[q].types; *t != '\0' && n < MAX_PARAMS; t++)
        types[n++] = *t == 'i' ? INT8 : *t == 't' ? TEXT : BYTEA;
    snprintf(name, sizeof(name), "sn%d", q);
    PGresult *r = PQprepare(s->conn, name, queries[q].sql, n, types);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? SN_OK : pg_fail(s, r, err, errlen, "prepare");
    PQclear(r);
    if (rc == SN_OK)
        s->prepared[q] = 1;
    return rc;
}

/* Run statement q with parameters p (binary results). Returns the result
 * when its status is `want`; NULL with err filled otherwise. */
static PGresult *run(pg_store *s, int q, const params *p, ExecStatusType want, char *err,
                     size_t errlen, const char *what)
{
    static const params none = {0};
    char name[16];
    if (p == NULL)
        p = &none;
    if (!s->prepared[q] && prepare(s, q, err, errlen) != SN_OK)
        return NULL;
    snprintf(name, sizeof(name), "sn%d", q);
    PGresult *r = PQexecPrepared(s->conn, name, p->n, p->values, p->lengths, p->formats, 1);
    if (PQresultStatus(r) == want)
        return r;
    pg_fail(s, r, err, errlen, what);
    PQclear(r);
    return NULL;
}

/* Run a statement that returns no rows; *n (when not NULL) gets the rows it changed. */
static int run_cmd(pg_store *s, int q, const params *p, uint64_t *n, char *err, size_t errlen,
                   const char *what)
{
    PGresult *r = run(s, q, p, PGRES_COMMAND_OK, err, errlen, what);
    if (r == NULL)
        return SN_ESTORE;
    if (n != NULL)
        *n = affected(r);
    PQclear(r);
    return SN_OK;
}

/* Run SQL text (no parameters; several statements allowed). */
static int exec_sql(pg_store *s, const char *sql, char *err, size_t errlen, const char *what)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? SN_OK
                                                             : pg_fail(s, r, err, errlen, what);
    PQclear(r);
    return rc;
}

static int64_t event_key(sn_number n, uint32_t ordinal)
{
    return (int64_t)((n << ORDINAL_BITS) | ordinal);
}

/* ---- read-ahead windows -------------------------------------------------- */

static void window_clear(read_window *w)
{
    PQclear(w->rows);
    memset(w, 0, sizeof(*w));
}

static int window_covers(const read_window *w, int64_t key)
{
    return w->rows != NULL && key >= w->lo && key <= w->hi;
}

/* The first row from `first` on whose key (column col) is at least key. */
static int lower_bound(const PGresult *r, int first, int col, int64_t key)
{
    int lo = first, hi = PQntuples(r);
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (col_int(r, mid, col) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Nothing below key stays in the window (those rows may have been written). */
static void window_trim(read_window *w, int col, int64_t key)
{
    if (w->rows == NULL || key <= w->lo)
        return;
    if (key > w->hi) {
        PQclear(w->rows);
        w->rows = NULL;
        return;
    }
    w->lo = key;
    w->first = lower_bound(w->rows, w->first, col, key);
}

static PGresult *run(pg_store *s, int q, const params *p, ExecStatusType want, char *err,
                     size_t errlen, const char *what);

/* Fetch the window from key on (statement q: $1 key, $2 limit; the key in
 * column col). A window that answered most of its lookups doubles for the
 * next fill; one that answered few (sparse lookups) shrinks back. */
static int window_fill(pg_store *s, read_window *w, int q, int col, int64_t key, char *err,
                       size_t errlen, const char *what)
{
    params p = {0};
    PGresult *r;
    if (w->limit == 0)
        w->limit = WINDOW_MIN;
    else if (w->rows != NULL && w->hits * 4 >= PQntuples(w->rows) && w->limit < WINDOW_MAX)
        w->limit *= 2;
    else if (w->rows != NULL && w->hits * 16 < PQntuples(w->rows) && w->limit > WINDOW_MIN)
        w->limit = w->limit / 4 > WINDOW_MIN ? w->limit / 4 : WINDOW_MIN;
    p_int(&p, key);
    p_int(&p, w->limit);
    if ((r = run(s, q, &p, PGRES_TUPLES_OK, err, errlen, what)) == NULL)
        return SN_ESTORE;
    PQclear(w->rows);
    int n = PQntuples(r);
    w->rows = r;
    w->first = 0;
    w->hits = 0;
    w->lo = key;
    w->hi = n < w->limit ? INT64_MAX : col_int(r, n - 1, col);
    return SN_OK;
}

/* ---- buffered writes ---------------------------------------------------- */

static void buf_put(byte_buf *b, const void *data, size_t n)
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

static void buf_be(byte_buf *b, uint64_t v, int bytes)
{
    unsigned char tmp[8];
    put_be(tmp, v, bytes);
    buf_put(b, tmp, (size_t)bytes);
}

/* One binary COPY field: its length, then its bytes; NULL is length -1. */
static void field_int(byte_buf *b, int64_t v, int bytes)
{
    buf_be(b, (uint64_t)bytes, 4);
    buf_be(b, (uint64_t)v, bytes);
}

static void field_bytes(byte_buf *b, const void *data, size_t len)
{
    buf_be(b, data != NULL ? (uint64_t)len : 0xffffffffu, 4);
    if (data != NULL)
        buf_put(b, data, len);
}

/* Hand what the buffer holds to libpq. */
static int copy_send(pg_store *s, byte_buf *b, char *err, size_t errlen)
{
    if (b->failed)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    if (b->len > 0 && PQputCopyData(s->conn, (const char *)b->data, (int)b->len) != 1)
        return pg_fail(s, NULL, err, errlen, "copy");
    b->len = 0;
    return SN_OK;
}

typedef void (*copy_row_fn)(pg_store *s, byte_buf *b, size_t i);

static void copy_event_row(pg_store *s, byte_buf *b, size_t i)
{
    const pending_event *e = &s->events[i];
    buf_be(b, 7, 2);
    field_int(b, e->id, 8);
    field_int(b, e->at, 8);
    field_int(b, (int32_t)e->carrier, 4);
    field_int(b, e->kind, 2);
    field_int(b, e->flags, 2);
    field_bytes(b, e->has_event_id ? e->event_id : NULL, e->event_id_len);
    field_bytes(b, e->has_id6 ? e->id6_hash : NULL, SN_ID6_HASH_LEN);
}

static void copy_state_row(pg_store *s, byte_buf *b, size_t i)
{
    const sn_number_state *st = &s->states[i].st;
    buf_be(b, 10, 2);
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
}

/* COPY rows [0, n) for which keep(s, i) holds (all when keep is NULL) in
 * PostgreSQL's binary COPY format. */
static int copy_rows(pg_store *s, const char *sql, size_t n, copy_row_fn row,
                     int (*keep)(pg_store *, size_t), char *err, size_t errlen, const char *what)
{
    static const unsigned char header[] = "PGCOPY\n\377\r\n";
    byte_buf *b = &s->copy;
    PGresult *r = PQexec(s->conn, sql);
    int rc = SN_OK;
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        rc = pg_fail(s, r, err, errlen, what);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    b->len = 0;
    b->failed = 0;
    buf_put(b, header, sizeof(header)); /* the signature ends with its NUL byte */
    buf_be(b, 0, 4);                    /* flags */
    buf_be(b, 0, 4);                    /* header extension length */
    for (size_t i = 0; i < n && rc == SN_OK; i++) {
        if (keep == NULL || keep(s, i))
            row(s, b, i);
        if (b->len >= COPY_CHUNK)
            rc = copy_send(s, b, err, errlen);
    }
    buf_be(b, 0xffff, 2); /* trailer */
    if (rc == SN_OK)
        rc = copy_send(s, b, err, errlen);
    if (PQputCopyEnd(s->conn, rc == SN_OK ? NULL : "aborted by the client") != 1 && rc == SN_OK)
        rc = pg_fail(s, NULL, err, errlen, what);
    while ((r = PQgetResult(s->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == SN_OK)
            rc = pg_fail(s, r, err, errlen, what);
        PQclear(r);
    }
    return rc;
}

static int is_fresh(pg_store *s, size_t i)
{
    return s->states[i].fresh;
}

static void event_params(const pending_event *e, params *p)
{
    p->n = 0;
    p_int(p, e->id);
    p_int(p, e->at);
    p_int(p, e->kind);
    p_int(p, e->carrier);
    p_bytes(p, e->has_event_id ? e->event_id : NULL, e->event_id_len);
    p_bytes(p, e->has_id6 ? e->id6_hash : NULL, SN_ID6_HASH_LEN);
    p_int(p, e->flags);
}

static void state_params(const sn_number_state *st, params *p)
{
    p->n = 0;
    p_int(p, (int64_t)st->number);
    p_int(p, st->status);
    p_int(p, st->first_is_activation);
    p_int(p, st->tenure);
    p_int(p, st->carrier);
    p_int(p, st->events);
    p_int(p, st->first_day);
    p_int(p, st->last_activation_day);
    p_int(p, st->last_cancel_day);
    p_int(p, st->last_at);
}

/* Read the results of `sent` pipelined statements and the sync after them;
 * the first failure goes to err. Leaves pipeline mode. */
static int pipeline_end(pg_store *s, int sent, int rc, char *err, size_t errlen)
{
    int ends = 0, synced = 0;
    if (PQpipelineSync(s->conn) != 1) {
        rc = rc != SN_OK ? rc : pg_fail(s, NULL, err, errlen, "pipeline");
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
            rc = pg_fail(s, r, err, errlen, "write");
        PQclear(r);
    }
    if (PQexitPipelineMode(s->conn) != 1 && rc == SN_OK)
        rc = pg_fail(s, NULL, err, errlen, "pipeline");
    return rc;
}

/* Send buffered events [0, nevents) and states (only the not fresh ones
 * when fresh_copied) as prepared INSERTs, PIPELINE_MAX per round trip. */
static int pipeline_rows(pg_store *s, int fresh_copied, char *err, size_t errlen)
{
    size_t ie = 0, is = 0;
    int rc = SN_OK;
    if ((rc = s->prepared[Q_APPEND_EVENT] ? SN_OK : prepare(s, Q_APPEND_EVENT, err, errlen)) !=
            SN_OK ||
        (rc = s->prepared[Q_PUT_STATE] ? SN_OK : prepare(s, Q_PUT_STATE, err, errlen)) != SN_OK)
        return rc;
    while (rc == SN_OK && (ie < s->nevents || is < s->nstates)) {
        int sent = 0;
        if (PQenterPipelineMode(s->conn) != 1)
            return pg_fail(s, NULL, err, errlen, "pipeline");
        for (; rc == SN_OK && sent < PIPELINE_MAX && (ie < s->nevents || is < s->nstates);) {
            params p;
            char name[16];
            if (ie < s->nevents) {
                event_params(&s->events[ie++], &p);
                snprintf(name, sizeof(name), "sn%d", Q_APPEND_EVENT);
            } else if (fresh_copied && s->states[is].fresh) {
                is++;
                continue;
            } else {
                state_params(&s->states[is++].st, &p);
                snprintf(name, sizeof(name), "sn%d", Q_PUT_STATE);
            }
            if (PQsendQueryPrepared(s->conn, name, p.n, p.values, p.lengths, p.formats, 1) != 1)
                rc = pg_fail(s, NULL, err, errlen, "write");
            else
                sent++;
        }
        rc = pipeline_end(s, sent, rc, err, errlen);
    }
    return rc;
}

/* Wake the nodes following the changes (LISTEN): PostgreSQL delivers the
 * notification at commit, and only once per transaction. */
static int notify_changes(pg_store *s, char *err, size_t errlen)
{
    PGresult *r = run(s, Q_NOTIFY_CHANGES, NULL, PGRES_TUPLES_OK, err, errlen, "notify");
    if (r == NULL)
        return SN_ESTORE;
    PQclear(r);
    s->notified = 1;
    return SN_OK;
}

/* Send every buffered write. Large buffers go by COPY (events, and states
 * of numbers that had no row); the rest as pipelined statements. A
 * transaction that wrote states notifies the followers once. */
static int flush(pg_store *s, char *err, size_t errlen)
{
    int rc = SN_OK;
    size_t fresh = 0;
    int64_t max_event = -1;
    if (s->nevents == 0 && s->nstates == 0)
        return SN_OK;
    for (size_t i = 0; i < s->nstates; i++)
        fresh += (size_t)s->states[i].fresh;
    for (size_t i = 0; i < s->nevents; i++)
        if (s->events[i].id > max_event)
            max_event = s->events[i].id;
    if (s->nevents + fresh < COPY_MIN_ROWS) {
        rc = pipeline_rows(s, 0, err, errlen);
    } else {
        if (s->nevents > 0)
            rc = copy_rows(s,
                           "COPY events(id, at, carrier, kind, flags, event_id, id6_hash) "
                           "FROM STDIN (FORMAT binary)",
                           s->nevents, copy_event_row, NULL, err, errlen, "append events");
        if (rc == SN_OK && fresh > 0)
            rc = copy_rows(s,
                           "COPY numbers(number, last_at, status, first_is_activation, tenure, "
                           "carrier, events, first_day, last_activation_day, last_cancel_day) "
                           "FROM STDIN (FORMAT binary)",
                           s->nstates, copy_state_row, is_fresh, err, errlen, "write states");
        s->nevents = 0; /* sent: the pipeline below only writes states */
        if (rc == SN_OK && fresh < s->nstates)
            rc = pipeline_rows(s, 1, err, errlen);
    }
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

static int buffer_event(pg_store *s, const sn_log_event *e, uint32_t ordinal, char *err,
                        size_t errlen)
{
    pending_event *pe;
    int rc;
    if (e->event_id != NULL && e->event_id_len > SN_EVENT_ID_MAX) {
        /* longer than a feed allows: not worth a buffer slot, written now */
        params p = {0};
        if ((rc = flush(s, err, errlen)) != SN_OK)
            return rc;
        p_int(&p, event_key(e->ev.number, ordinal));
        p_int(&p, e->ev.at);
        p_int(&p, e->ev.kind);
        p_int(&p, e->ev.carrier);
        p_bytes(&p, e->event_id, e->event_id_len);
        p_bytes(&p, e->has_id6 ? e->id6_hash : NULL, SN_ID6_HASH_LEN);
        p_int(&p, e->flags);
        window_trim(&s->event_w, 1, event_key(e->ev.number, ordinal) + 1);
        return run_cmd(s, Q_APPEND_EVENT, &p, NULL, err, errlen, "append event");
    }
    if (s->nevents >= BUFFER_ROWS && (rc = flush(s, err, errlen)) != SN_OK)
        return rc;
    pe = sn_grow(s->events, &s->events_cap, s->nevents, sizeof(*s->events), 1024);
    if (pe == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    s->events = pe;
    pe = &s->events[s->nevents];
    pe->id = event_key(e->ev.number, ordinal);
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

static int buffer_state(pg_store *s, const sn_number_state *st, char *err, size_t errlen)
{
    pending_state *ps;
    int rc;
    /* each number at most once per flush, in increasing order: a number
     * written again (or out of order) first sends what is buffered */
    if ((s->nstates > 0 && st->number <= s->states[s->nstates - 1].st.number) ||
        s->nstates >= BUFFER_ROWS)
        if ((rc = flush(s, err, errlen)) != SN_OK)
            return rc;
    ps = sn_grow(s->states, &s->states_cap, s->nstates, sizeof(*s->states), 1024);
    if (ps == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    s->states = ps;
    ps = &s->states[s->nstates++];
    ps->st = *st;
    ps->fresh = st->number > s->table_max;
    if (st->number > s->max_number)
        s->max_number = st->number;
    return SN_OK;
}

/* ---- connection and transactions --------------------------------------- */

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Session settings, at connect and after a reconnect. */
static int configure(pg_store *s, char *err, size_t errlen)
{
    PGresult *r;
    int rc;
    PQsetNoticeProcessor(s->conn, ignore_notice, NULL);
    memset(s->prepared, 0, sizeof(s->prepared));
    r = PQexec(s->conn, "SELECT current_setting('synchronous_commit')");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pg_fail(s, r, err, errlen, "configure");
        PQclear(r);
        return rc;
    }
    int sync_off = strcmp(PQgetvalue(r, 0, 0), "off") == 0;
    PQclear(r);
    if (s->relaxed)
        return exec_sql(s, "SET synchronous_commit = off", err, errlen, "configure");
    if (sync_off)
        return exec_sql(s, "SET synchronous_commit = on", err, errlen, "configure");
    return SN_OK;
}

/* ---- delivery claims ------------------------------------------------------ */

static int id_add(id_set *set, uint64_t id)
{
    uint64_t *v = sn_grow(set->v, &set->cap, set->n, sizeof(*v), 256);
    if (v == NULL)
        return SN_ENOMEM;
    set->v = v;
    set->v[set->n++] = id;
    return SN_OK;
}

static int id_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The set as a PostgreSQL array literal, "{1,2,3}"; NULL when out of memory. */
static char *id_array(const id_set *set)
{
    char *text = malloc(3 + set->n * 21), *p = text;
    if (text == NULL)
        return NULL;
    *p++ = '{';
    for (size_t i = 0; i < set->n; i++)
        p += sprintf(p, "%s%llu", i ? "," : "", (unsigned long long)set->v[i]);
    *p++ = '}';
    *p = '\0';
    return text;
}

/* Remove every id of gone (sorted here) from set. */
static void id_remove_all(id_set *set, id_set *gone)
{
    size_t keep = 0;
    qsort(gone->v, gone->n, sizeof(uint64_t), id_cmp);
    for (size_t i = 0; i < set->n; i++)
        if (bsearch(&set->v[i], gone->v, gone->n, sizeof(uint64_t), id_cmp) == NULL)
            set->v[keep++] = set->v[i];
    set->n = keep;
}

/* After a commit that wrote delivery outcomes: release their claims, so
 * another node may take a retry. A failure here only delays that (the claims
 * end with the connection at the latest). */
static void release_claims(pg_store *s)
{
    char err[SN_ERRMSG_MAX], *ids;
    params p = {0};
    PGresult *r;
    if (s->written.n == 0)
        return;
    if ((ids = id_array(&s->written)) == NULL)
        return;
    p_text(&p, ids);
    r = run(s, Q_UNCLAIM, &p, PGRES_TUPLES_OK, err, sizeof(err), "release delivery claims");
    free(ids);
    if (r == NULL)
        return;
    PQclear(r);
    id_remove_all(&s->claimed, &s->written);
}

/* Outside a transaction, a connection found broken is reset once; the
 * statement that follows reports any failure. */
static int reconnect_if_lost(pg_store *s, char *err, size_t errlen)
{
    if (PQstatus(s->conn) == CONNECTION_OK)
        return SN_OK;
    PQreset(s->conn);
    s->claimed.n = 0; /* the claims ended with the old session */
    s->written.n = 0;
    if (PQstatus(s->conn) != CONNECTION_OK)
        return pg_fail(s, NULL, err, errlen, "connection to the database lost");
    return configure(s, err, errlen);
}

/* Before a statement outside a transaction (or scan): check the connection.
 * Inside, buffered writes stay buffered: only statements reading numbers or
 * events see them, and those send them first (enter_log). */
static int enter(pg_store *s, char *err, size_t errlen)
{
    return s->in_tx || s->scans > 0 ? SN_OK : reconnect_if_lost(s, err, errlen);
}

/* Before SQL that reads the numbers or events tables. */
static int enter_log(pg_store *s, char *err, size_t errlen)
{
    return s->in_tx ? flush(s, err, errlen) : enter(s, err, errlen);
}

/* Buffers and windows last as long as the transaction (or snapshot). */
static void discard_buffers(pg_store *s)
{
    s->nevents = 0;
    s->nstates = 0;
    s->events_sorted = 1;
    s->notified = 0;
    window_clear(&s->state_w);
    window_clear(&s->event_w);
}

static int pg_reachable(sn_store *base)
{
    return PQstatus(to_pg(base)->conn) == CONNECTION_OK;
}

static void pg_rollback(sn_store *base)
{
    pg_store *s = to_pg(base);
    discard_buffers(s);
    s->written.n = 0; /* not written after all: the claims stay */
    if (s->in_tx && PQstatus(s->conn) == CONNECTION_OK &&
        PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    }
    s->in_tx = 0;
}

/* BEGIN, then the writer lock (waiting at most LOCK_TIMEOUT). */
static const char begin_sql[] = "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; "
                                "SET LOCAL lock_timeout = '" LOCK_TIMEOUT "'; "
                                "SELECT pg_advisory_xact_lock(" SN_PG_STR(WRITER_LOCK) ")";

static int pg_begin(sn_store *base, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    PGresult *r = NULL;
    int rc;
    if (s->in_tx || s->scans > 0)
        return sn_fail(err, errlen, SN_ESTORE,
                       "begin: a transaction or a scan is already open on this handle");
    if ((rc = reconnect_if_lost(s, err, errlen)) != SN_OK)
        return rc;
    s->in_tx = 1;
    discard_buffers(s);
    if ((rc = exec_sql(s, begin_sql, err, errlen, "begin")) != SN_OK)
        goto fail;
    if ((r = run(s, Q_BEGIN_STATE, NULL, PGRES_TUPLES_OK, err, errlen, "begin")) == NULL) {
        rc = SN_ESTORE;
        goto fail;
    }
    s->max_number = s->table_max = (sn_number)col_int(r, 0, 0);
    s->any_bindings = col_int(r, 0, 1) != 0;
    s->any_subscriptions = col_int(r, 0, 2) != 0;
    s->any_open_notices = col_int(r, 0, 3) != 0;
    PQclear(r);
    return SN_OK;
fail:
    pg_rollback(base);
    return rc;
}

static int pg_commit(sn_store *base, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    PGresult *r;
    int rc;
    if (!s->in_tx)
        return sn_fail(err, errlen, SN_ESTORE, "commit: no transaction is open");
    if ((rc = flush(s, err, errlen)) != SN_OK)
        return rc; /* still in the transaction: the caller rolls back */
    if (PQtransactionStatus(s->conn) == PQTRANS_INERROR)
        return sn_fail(err, errlen, SN_ESTORE, "commit: the transaction failed earlier");
    r = PQexec(s->conn, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pg_fail(s, r, err, errlen, "commit");
    else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
        rc = sn_fail(err, errlen, SN_ESTORE, "commit: the transaction was rolled back");
    PQclear(r);
    /* COMMIT ends the transaction whatever its outcome (a lost connection
     * leaves the outcome unknown, reported as a failure) */
    s->in_tx = 0;
    discard_buffers(s);
    if (rc == SN_OK)
        release_claims(s);
    s->written.n = 0;
    return rc;
}

/* Writes outside a transaction run in one of their own, so they take the
 * writer lock and commit durably, as SQLite's autocommit writes do. */
static int own_begin(pg_store *s, int *own, char *err, size_t errlen)
{
    *own = !s->in_tx;
    return *own ? pg_begin(&s->base, err, errlen) : SN_OK;
}


static int own_end(pg_store *s, int own, int rc, char *err, size_t errlen)
{
    if (!own)
        return rc;
    if (rc == SN_OK)
        rc = pg_commit(&s->base, err, errlen);
    if (rc != SN_OK)
        pg_rollback(&s->base);
    return rc;
}

static void pg_close(sn_store *base)
{
    pg_store *s = to_pg(base);
    if (s->conn != NULL)
        pg_rollback(base);
    PQfinish(s->conn);
    free(s->events);
    free(s->states);
    free(s->copy.data);
    free(s->claimed.v);
    free(s->written.v);
    free(s);
}

/* ---- states and events --------------------------------------------------- */

/* Columns status.. last_at start at column c. */
static void read_state(const PGresult *r, int row, int c, sn_number n, sn_number_state *st)
{
    sn_state_init(st, n);
    st->status = (uint8_t)col_int(r, row, c);
    st->first_is_activation = (uint8_t)col_int(r, row, c + 1);
    st->tenure = (uint32_t)col_int(r, row, c + 2);
    st->carrier = (uint32_t)col_int(r, row, c + 3);
    st->events = (uint32_t)col_int(r, row, c + 4);
    st->first_day = (sn_day)col_int(r, row, c + 5);
    st->last_activation_day = (sn_day)col_int(r, row, c + 6);
    st->last_cancel_day = (sn_day)col_int(r, row, c + 7);
    st->last_at = col_int(r, row, c + 8);
}

/* Windows are used where rows cannot change between calls. */
static int read_ahead(const pg_store *s)
{
    return s->in_tx || s->snapshot;
}

/* The buffered state of n, if any (the buffer is in number order). */
static const pending_state *pending_state_of(const pg_store *s, sn_number n)
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

static int pg_get_state(sn_store *base, sn_number n, sn_number_state *out, char *err,
                        size_t errlen)
{
    pg_store *s = to_pg(base);
    read_window *w = &s->state_w;
    params p = {0};
    PGresult *r;
    int rc;
    sn_state_init(out, n);
    if (s->in_tx && n > s->max_number)
        return SN_OK;
    if (read_ahead(s)) {
        const pending_state *ps = pending_state_of(s, n);
        if (ps != NULL) {
            *out = ps->st;
            return SN_OK;
        }
        if (!window_covers(w, (int64_t)n) &&
            (rc = window_fill(s, w, Q_STATE_WINDOW, 0, (int64_t)n, err, errlen, "read state")) !=
                SN_OK)
            return rc;
        int i = lower_bound(w->rows, w->first, 0, (int64_t)n);
        w->hits++;
        if (i < PQntuples(w->rows) && col_int(w->rows, i, 0) == (int64_t)n)
            read_state(w->rows, i, 1, n, out);
        return SN_OK;
    }
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, (int64_t)n);
    if ((r = run(s, Q_GET_STATE, &p, PGRES_TUPLES_OK, err, errlen, "read state")) == NULL)
        return SN_ESTORE;
    if (PQntuples(r) == 1)
        read_state(r, 0, 0, n, out);
    PQclear(r);
    return SN_OK;
}

static int pg_put_state(sn_store *base, const sn_number_state *st, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    int own, rc = own_begin(s, &own, err, errlen);
    if (rc == SN_OK)
        rc = buffer_state(s, st, err, errlen);
    return own_end(s, own, rc, err, errlen);
}

/* The logged events of n, from the window and the buffer, in id order:
 * rows [*wfrom, *wto) of the window then buffered events [*bfrom, *bto). */
typedef struct {
    const PGresult *rows;
    int wfrom, wto;
    size_t bfrom, bto;
} log_slice;

static int events_of(pg_store *s, sn_number n, log_slice *out, char *err, size_t errlen)
{
    read_window *w = &s->event_w;
    int64_t lo = event_key(n, 0), hi = event_key(n, SN_MAX_EVENTS_PER_NUMBER);
    int rc;
    if (!s->events_sorted && (rc = flush(s, err, errlen)) != SN_OK)
        return rc;
    if (!window_covers(w, lo) || !window_covers(w, hi)) {
        if ((rc = window_fill(s, w, Q_EVENT_WINDOW, 1, lo, err, errlen, "read events")) != SN_OK)
            return rc;
        if (w->hi != INT64_MAX) {
            /* the last number fetched may have more rows: not covered */
            int64_t last_start = w->hi & ~(int64_t)SN_MAX_EVENTS_PER_NUMBER;
            if (last_start > lo) {
                w->hi = last_start - 1;
            } else { /* n alone filled the window: read all of n */
                params p = {0};
                PGresult *r;
                p_int(&p, lo);
                p_int(&p, hi);
                if ((r = run(s, Q_SCAN_EVENTS, &p, PGRES_TUPLES_OK, err, errlen,
                             "read events")) == NULL)
                    return SN_ESTORE;
                PQclear(w->rows);
                w->rows = r;
                w->first = 0;
                w->hi = hi;
            }
        }
    }
    w->hits++;
    out->rows = w->rows;
    out->wfrom = lower_bound(w->rows, w->first, 1, lo);
    out->wto = lower_bound(w->rows, out->wfrom, 1, hi + 1);
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

/* Does a logged event (at, kind, event id) match e as a duplicate? */
static int same_event(const sn_log_event *e, int64_t at, int kind, const char *id, uint32_t len)
{
    return at == e->ev.at && kind == e->ev.kind &&
           (e->event_id == NULL || id == NULL ||
            (len == e->event_id_len && memcmp(id, e->event_id, len) == 0));
}

static int pg_find_event(sn_store *base, const sn_log_event *e, int *found, char *err,
                         size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    log_slice sl;
    int rc;
    *found = 0;
    if (read_ahead(s)) {
        if ((rc = events_of(s, e->ev.number, &sl, err, errlen)) != SN_OK)
            return rc;
        for (int i = sl.wfrom; i < sl.wto && !*found; i++)
            *found = same_event(e, col_int(sl.rows, i, 0), (int)col_int(sl.rows, i, 2),
                                PQgetisnull(sl.rows, i, 4) ? NULL : PQgetvalue(sl.rows, i, 4),
                                (uint32_t)PQgetlength(sl.rows, i, 4));
        for (size_t i = sl.bfrom; i < sl.bto && !*found; i++) {
            const pending_event *pe = &s->events[i];
            *found = same_event(e, pe->at, pe->kind, pe->has_event_id ? pe->event_id : NULL,
                                pe->event_id_len);
        }
        return SN_OK;
    }
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, event_key(e->ev.number, 0));
    p_int(&p, event_key(e->ev.number, SN_MAX_EVENTS_PER_NUMBER));
    p_int(&p, e->ev.at);
    p_int(&p, e->ev.kind);
    if ((r = run(s, Q_FIND_EVENT, &p, PGRES_TUPLES_OK, err, errlen, "find event")) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r) && !*found; i++)
        *found = same_event(e, e->ev.at, e->ev.kind, PQgetisnull(r, i, 0) ? NULL : PQgetvalue(r, i, 0),
                            (uint32_t)PQgetlength(r, i, 0));
    PQclear(r);
    return SN_OK;
}

static int pg_append_event(sn_store *base, const sn_log_event *e, uint32_t ordinal, char *err,
                           size_t errlen)
{
    pg_store *s = to_pg(base);
    int own, rc;
    if (ordinal == 0 || ordinal > SN_MAX_EVENTS_PER_NUMBER)
        return sn_fail(err, errlen, SN_ELIMIT, "event ordinal %u out of range", ordinal);
    if ((rc = own_begin(s, &own, err, errlen)) == SN_OK)
        rc = buffer_event(s, e, ordinal, err, errlen);
    return own_end(s, own, rc, err, errlen);
}

/* The id of `name` in carriers or apps (get, add), created when absent and
 * create is set. The add statement inserts only when the name is still
 * absent under the writer lock; when another writer got there first, the
 * name is read again. */
static int named_id(pg_store *s, int get, int add, const char *kind, const char *name,
                    int create, uint32_t *id, char *err, size_t errlen)
{
    params p = {0};
    PGresult *r = NULL;
    char what[32];
    int rc, own;
    snprintf(what, sizeof(what), "read %s", kind);
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_text(&p, name);
    for (int attempt = 0; attempt < 2; attempt++) {
        if ((r = run(s, get, &p, PGRES_TUPLES_OK, err, errlen, what)) == NULL)
            return SN_ESTORE;
        int have = PQntuples(r) == 1;
        if (have)
            *id = (uint32_t)col_int(r, 0, 0);
        PQclear(r);
        if (have)
            return SN_OK;
        if (!create)
            return sn_fail(err, errlen, SN_ENOTFOUND, "no %s named '%s'", kind, name);
        if ((rc = own_begin(s, &own, err, errlen)) != SN_OK)
            return rc;
        snprintf(what, sizeof(what), "add %s", kind);
        if ((r = run(s, add, &p, PGRES_TUPLES_OK, err, errlen, what)) == NULL)
            return own_end(s, own, SN_ESTORE, err, errlen);
        have = PQntuples(r) == 1;
        if (have)
            *id = (uint32_t)col_int(r, 0, 0);
        PQclear(r);
        if ((rc = own_end(s, own, SN_OK, err, errlen)) != SN_OK || have)
            return rc;
    }
    return sn_fail(err, errlen, SN_ESTORE, "add %s '%s': created and gone again", kind, name);
}

static int pg_carrier_id(sn_store *base, const char *name, int create, uint32_t *id, char *err,
                         size_t errlen)
{
    return named_id(to_pg(base), Q_CARRIER_GET, Q_CARRIER_ADD, "carrier", name, create, id, err,
                    errlen);
}

/* Every state through a server-side cursor, SCAN_ROWS per round trip. A scan
 * outside a transaction reads one snapshot (REPEATABLE READ, read only), as
 * SQLite's statement does; fn may use the handle for reads meanwhile. */
static int pg_scan_states(sn_store *base, int (*fn)(void *, const sn_number_state *),
                          void *ctx, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    char sql[256], fetch[64], close_sql[48];
    int rc, stop = 0, own = 0, declared = 0;
    if ((rc = enter_log(s, err, errlen)) != SN_OK)
        return rc;
    if (!s->in_tx && s->scans == 0) {
        if ((rc = exec_sql(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen,
                           "scan states")) != SN_OK)
            return rc;
        own = 1;
        s->snapshot = 1; /* the callback's reads may read ahead */
    }
    s->scans++;
    snprintf(sql, sizeof(sql),
             "DECLARE sn_scan%d NO SCROLL CURSOR FOR SELECT number, " STATE_COLUMNS
             " FROM numbers ORDER BY number",
             s->scans);
    snprintf(fetch, sizeof(fetch), "FETCH FORWARD %d FROM sn_scan%d", SCAN_ROWS, s->scans);
    snprintf(close_sql, sizeof(close_sql), "CLOSE sn_scan%d", s->scans);
    if ((rc = exec_sql(s, sql, err, errlen, "scan states")) != SN_OK)
        goto out;
    declared = 1;
    while (rc == SN_OK && !stop) {
        PGresult *r = PQexecParams(s->conn, fetch, 0, NULL, NULL, NULL, NULL, 1);
        int n = PQntuples(r);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = pg_fail(s, r, err, errlen, "scan states");
            n = 0;
        }
        for (int i = 0; i < n && !stop; i++) {
            sn_number_state st;
            read_state(r, i, 1, (sn_number)col_int(r, i, 0), &st);
            stop = fn(ctx, &st);
        }
        PQclear(r);
        if (n < SCAN_ROWS)
            break;
    }
out:
    if (declared && PQtransactionStatus(s->conn) == PQTRANS_INTRANS)
        exec_sql(s, close_sql, NULL, 0, "scan states");
    s->scans--;
    if (own) {
        exec_sql(s, rc == SN_OK ? "COMMIT" : "ROLLBACK", NULL, 0, "scan states");
        s->snapshot = 0;
        discard_buffers(s);
    }
    return stop ? stop : rc;
}

/* A number's events as scan_events hands them out: copied, so the callback
 * may use the handle (and move windows and buffers) meanwhile. */
typedef struct {
    sn_log_event *items;
    uint32_t *ordinals;
    char *ids;
    size_t n;
} event_list;

static void event_list_free(event_list *l)
{
    free(l->items);
    free(l->ordinals);
    free(l->ids);
}

/* Append one event; its id goes to l->ids at *idpos (sized beforehand). */
static void event_list_add(event_list *l, sn_number n, int64_t id, int64_t at, int kind,
                           uint32_t carrier, const char *event_id, uint32_t idlen,
                           const uint8_t *id6, int flags, size_t *idpos)
{
    sn_log_event *e = &l->items[l->n];
    memset(e, 0, sizeof(*e));
    e->ev.number = n;
    e->ev.at = at;
    e->ev.kind = (uint8_t)kind;
    e->ev.carrier = carrier;
    if (event_id != NULL) {
        memcpy(l->ids + *idpos, event_id, idlen);
        l->ids[*idpos + idlen] = '\0';
        e->event_id = l->ids + *idpos;
        e->event_id_len = idlen;
        *idpos += idlen + 1;
    }
    if (id6 != NULL) {
        e->has_id6 = 1;
        memcpy(e->id6_hash, id6, SN_ID6_HASH_LEN);
    }
    e->flags = (uint8_t)flags;
    l->ordinals[l->n++] = (uint32_t)id & SN_MAX_EVENTS_PER_NUMBER;
}

static int collect_events(pg_store *s, sn_number n, const PGresult *r, int from, int to,
                          size_t bfrom, size_t bto, event_list *l, char *err, size_t errlen)
{
    size_t count = (size_t)(to - from) + (bto - bfrom), bytes = 1, pos = 0;
    for (int i = from; i < to; i++)
        bytes += (size_t)PQgetlength(r, i, 4) + 1;
    for (size_t i = bfrom; i < bto; i++)
        bytes += s->events[i].event_id_len + 1;
    memset(l, 0, sizeof(*l));
    l->items = malloc((count > 0 ? count : 1) * sizeof(*l->items));
    l->ordinals = malloc((count > 0 ? count : 1) * sizeof(*l->ordinals));
    l->ids = malloc(bytes);
    if (l->items == NULL || l->ordinals == NULL || l->ids == NULL) {
        event_list_free(l);
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    }
    for (int i = from; i < to; i++) {
        uint8_t id6[SN_ID6_HASH_LEN];
        int has6 = copy_bytes(id6, SN_ID6_HASH_LEN, r, i, 5);
        event_list_add(l, n, col_int(r, i, 1), col_int(r, i, 0), (int)col_int(r, i, 2),
                       (uint32_t)col_int(r, i, 3), PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4),
                       (uint32_t)PQgetlength(r, i, 4), has6 ? id6 : NULL, (int)col_int(r, i, 6),
                       &pos);
    }
    for (size_t i = bfrom; i < bto; i++) {
        const pending_event *pe = &s->events[i];
        event_list_add(l, n, pe->id, pe->at, pe->kind, pe->carrier,
                       pe->has_event_id ? pe->event_id : NULL, pe->event_id_len,
                       pe->has_id6 ? pe->id6_hash : NULL, pe->flags, &pos);
    }
    return SN_OK;
}

static int pg_scan_events(sn_store *base, sn_number n,
                          int (*fn)(void *, const sn_log_event *, uint32_t), void *ctx, char *err,
                          size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r = NULL;
    event_list l;
    log_slice sl;
    int rc, stop = 0;
    if (read_ahead(s)) {
        if ((rc = events_of(s, n, &sl, err, errlen)) != SN_OK)
            return rc;
        rc = collect_events(s, n, sl.rows, sl.wfrom, sl.wto, sl.bfrom, sl.bto, &l, err, errlen);
    } else {
        if ((rc = enter(s, err, errlen)) != SN_OK)
            return rc;
        p_int(&p, event_key(n, 0));
        p_int(&p, event_key(n, SN_MAX_EVENTS_PER_NUMBER));
        if ((r = run(s, Q_SCAN_EVENTS, &p, PGRES_TUPLES_OK, err, errlen, "scan events")) == NULL)
            return SN_ESTORE;
        rc = collect_events(s, n, r, 0, PQntuples(r), 0, 0, &l, err, errlen);
        PQclear(r);
    }
    if (rc != SN_OK)
        return rc;
    for (size_t i = 0; i < l.n && !stop; i++)
        stop = fn(ctx, &l.items[i], l.ordinals[i]);
    event_list_free(&l);
    return stop;
}

/* ---- integrity ------------------------------------------------------------ */

/* Each check returns one row naming the first problem, or no row. */
static const char *const checks[] = {
    "SELECT format('store schema version %s, this build reads " SN_PG_STR(SCHEMA_VERSION) "', "
    "value) FROM meta WHERE key = 'schema_version' AND value <> '" SN_PG_STR(SCHEMA_VERSION) "'",
    "SELECT 'fsync is off on the server: commits are not durable' "
    "WHERE current_setting('fsync') <> 'on'",
    "SELECT format('%s events are logged, the numbers'' states count %s', e, n) FROM "
    "(SELECT count(*) AS e FROM events) l, (SELECT coalesce(sum(events), 0) AS n FROM numbers) t "
    "WHERE e <> n",
    "SELECT format('number %s: %s events logged (last ordinal %s), its state counts %s', "
    "g.number, g.c, g.m, coalesce(n.events::text, 'no state')) FROM (SELECT id >> 13 AS number, "
    "count(*) AS c, max(id & 8191) AS m FROM events GROUP BY 1) g LEFT JOIN numbers n "
    "ON n.number = g.number WHERE n.number IS NULL OR g.c <> n.events OR g.m <> n.events "
    "ORDER BY g.number LIMIT 1",
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
        rc = pg_fail(s, r, err, errlen, "integrity check");
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
        snprintf(sql, sizeof(sql),
                 "SELECT bt_index_check(i.indexrelid, true) FROM pg_index i WHERE i.indrelid = "
                 "'%s'::regclass",
                 tables[i]);
        if ((rc = exec_sql(s, sql, err, errlen, "integrity check")) != SN_OK || !heap)
            continue;
        snprintf(sql, sizeof(sql),
                 "SELECT format('table %s, block %%s: %%s', blkno, msg) FROM verify_heapam('%s') "
                 "LIMIT 1",
                 tables[i], tables[i]);
        r = PQexec(s->conn, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = pg_fail(s, r, err, errlen, "integrity check");
        else if (PQntuples(r) > 0)
            rc = sn_fail(err, errlen, SN_ESTORE, "integrity check: %s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    return rc;
}

/* The schema's version and tables, durable settings, the log and the states
 * agreeing in their counts, references between tables, then amcheck. Runs in
 * one read-only snapshot. */
static int pg_integrity(sn_store *base, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    char sql[160];
    int rc, own = !s->in_tx;
    if ((rc = enter_log(s, err, errlen)) != SN_OK)
        return rc;
    if (own && (rc = exec_sql(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen,
                              "integrity check")) != SN_OK)
        return rc;
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && rc == SN_OK; i++) {
        snprintf(sql, sizeof(sql), "SELECT to_regclass('%s') IS NOT NULL", tables[i]);
        PGresult *r = PQexec(s->conn, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = pg_fail(s, r, err, errlen, "integrity check");
        else if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
            rc = sn_fail(err, errlen, SN_ESTORE, "integrity check: table %s is missing", tables[i]);
        PQclear(r);
    }
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]) && rc == SN_OK; i++) {
        PGresult *r = PQexec(s->conn, checks[i]);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = pg_fail(s, r, err, errlen, "integrity check");
        else if (PQntuples(r) > 0)
            rc = sn_fail(err, errlen, SN_ESTORE, "integrity check: %s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    if (rc == SN_OK)
        rc = amcheck(s, err, errlen);
    if (own)
        exec_sql(s, rc == SN_OK ? "COMMIT" : "ROLLBACK", NULL, 0, "integrity check");
    return rc;
}

/* ---- keys and ranges ------------------------------------------------------- */

static int pg_add_key(sn_store *base, const sn_api_key *k, uint32_t *id, char *err,
                      size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int own, rc = own_begin(s, &own, err, errlen);
    if (rc != SN_OK)
        return rc;
    p_text(&p, k->name);
    p_int(&p, k->role);
    p_int(&p, k->carrier);
    p_bytes(&p, k->hash, SN_KEY_HASH_LEN);
    if ((r = run(s, Q_KEY_ADD, &p, PGRES_TUPLES_OK, err, errlen, "add key")) == NULL) {
        rc = SN_ESTORE;
    } else {
        *id = (uint32_t)col_int(r, 0, 0);
        PQclear(r);
    }
    return own_end(s, own, rc, err, errlen);
}

static int pg_list_keys(sn_store *base, int (*fn)(void *, const sn_api_key *), void *ctx,
                        char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    PGresult *r;
    int rc, stop = 0;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    if ((r = run(s, Q_KEY_LIST, NULL, PGRES_TUPLES_OK, err, errlen, "list keys")) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r) && !stop; i++) {
        sn_api_key k;
        memset(&k, 0, sizeof(k));
        k.id = (uint32_t)col_int(r, i, 0);
        copy_text(k.name, sizeof(k.name), r, i, 1);
        k.role = (uint8_t)col_int(r, i, 2);
        k.carrier = (uint32_t)col_int(r, i, 3);
        copy_bytes(k.hash, SN_KEY_HASH_LEN, r, i, 4);
        k.revoked = (uint8_t)col_int(r, i, 5);
        stop = fn(ctx, &k);
    }
    PQclear(r);
    return stop;
}

static int pg_revoke_key(sn_store *base, uint32_t id, int *found, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    uint64_t n = 0;
    int own, rc = own_begin(s, &own, err, errlen);
    *found = 0;
    if (rc != SN_OK)
        return rc;
    p_int(&p, id);
    rc = own_end(s, own, run_cmd(s, Q_KEY_REVOKE, &p, &n, err, errlen, "revoke key"), err, errlen);
    *found = rc == SN_OK && n > 0;
    return rc;
}

static int pg_add_range(sn_store *base, uint32_t carrier, const char *prefix, char *err,
                        size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    int own, rc = own_begin(s, &own, err, errlen);
    if (rc != SN_OK)
        return rc;
    p_int(&p, carrier);
    p_text(&p, prefix);
    return own_end(s, own, run_cmd(s, Q_RANGE_ADD, &p, NULL, err, errlen, "add range"), err,
                   errlen);
}

static int pg_list_ranges(sn_store *base, int (*fn)(void *, uint32_t, const char *, const char *),
                          void *ctx, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    PGresult *r;
    int rc, stop = 0;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    if ((r = run(s, Q_RANGE_LIST, NULL, PGRES_TUPLES_OK, err, errlen, "list ranges")) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r) && !stop; i++)
        stop = fn(ctx, (uint32_t)col_int(r, i, 0), PQgetvalue(r, i, 1),
                  PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2));
    PQclear(r);
    return stop;
}

/* ---- apps and bindings ------------------------------------------------------ */

static int pg_app_id(sn_store *base, const char *name, int create, uint32_t *id, char *err,
                     size_t errlen)
{
    return named_id(to_pg(base), Q_APP_GET, Q_APP_ADD, "app", name, create, id, err, errlen);
}

static void read_app(const PGresult *r, int row, int c, sn_app *a)
{
    memset(a, 0, sizeof(*a));
    a->id = (uint32_t)col_int(r, row, c);
    copy_text(a->name, sizeof(a->name), r, row, c + 1);
    copy_text(a->url, sizeof(a->url), r, row, c + 2);
    copy_text(a->secret, sizeof(a->secret), r, row, c + 3);
    a->sub_cancellations = (uint8_t)col_int(r, row, c + 4);
    a->sub_reissues = (uint8_t)col_int(r, row, c + 5);
}

static int pg_get_app(sn_store *base, uint32_t id, sn_app *out, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, id);
    if ((r = run(s, Q_APP_READ, &p, PGRES_TUPLES_OK, err, errlen, "read app")) == NULL)
        return SN_ESTORE;
    rc = PQntuples(r) == 1 ? SN_OK : sn_fail(err, errlen, SN_ENOTFOUND, "no app %u", id);
    if (rc == SN_OK)
        read_app(r, 0, 0, out);
    PQclear(r);
    return rc;
}

/* One write statement, in the caller's transaction or one of its own;
 * *n (when not NULL) gets the rows it changed. */
static int write_one(pg_store *s, int q, const params *p, uint64_t *n, char *err, size_t errlen,
                     const char *what)
{
    int own, rc = own_begin(s, &own, err, errlen);
    if (rc != SN_OK)
        return rc;
    return own_end(s, own, run_cmd(s, q, p, n, err, errlen, what), err, errlen);
}

static int pg_set_webhook(sn_store *base, uint32_t app, const char *url, const char *secret,
                          char *err, size_t errlen)
{
    params p = {0};
    p_int(&p, app);
    p_text(&p, url);
    p_text(&p, url != NULL ? secret : NULL);
    return write_one(to_pg(base), Q_APP_WEBHOOK, &p, NULL, err, errlen, "set webhook");
}

static int pg_set_subscription(sn_store *base, uint32_t app, int cancellations, int reissues,
                               char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    p_int(&p, app);
    p_int(&p, cancellations != 0);
    p_int(&p, reissues != 0);
    if (cancellations || reissues)
        s->any_subscriptions = 1;
    return write_one(s, Q_APP_SUBSCRIBE, &p, NULL, err, errlen, "set subscription");
}

static int pg_put_binding(sn_store *base, const sn_binding *b, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    p_int(&p, (int64_t)b->number);
    p_int(&p, b->app);
    p_bytes(&p, b->account, SN_ACCOUNT_HASH_LEN);
    p_int(&p, b->bound_at);
    p_int(&p, b->tenure);
    s->any_bindings = 1;
    return write_one(s, Q_BIND_PUT, &p, NULL, err, errlen, "write binding");
}

static int pg_delete_binding(sn_store *base, uint32_t app, sn_number n,
                             const uint8_t account[SN_ACCOUNT_HASH_LEN], int *found, char *err,
                             size_t errlen)
{
    params p = {0};
    uint64_t changed = 0;
    p_int(&p, (int64_t)n);
    p_int(&p, app);
    p_bytes(&p, account, SN_ACCOUNT_HASH_LEN);
    int rc = write_one(to_pg(base), Q_BIND_DELETE, &p, &changed, err, errlen, "delete binding");
    *found = rc == SN_OK && changed > 0;
    return rc;
}

static int pg_list_bindings(sn_store *base, uint32_t app, sn_number n,
                            int (*fn)(void *, const sn_binding *), void *ctx, char *err,
                            size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc, stop = 0;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, (int64_t)n);
    p_int(&p, app);
    if ((r = run(s, Q_BIND_LIST, &p, PGRES_TUPLES_OK, err, errlen, "list bindings")) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r) && !stop; i++) {
        sn_binding b = {.number = n, .app = app};
        copy_bytes(b.account, SN_ACCOUNT_HASH_LEN, r, i, 0);
        b.bound_at = col_int(r, i, 1);
        b.tenure = (uint32_t)col_int(r, i, 2);
        stop = fn(ctx, &b);
    }
    PQclear(r);
    return stop;
}

/* ---- notices ------------------------------------------------------------------ */

static void spec_params(const sn_notice_spec *spec, params *p)
{
    p->n = 0;
    p_int(p, (int64_t)spec->number);
    p_int(p, spec->event);
    p_int(p, spec->event_at);
    p_int(p, spec->tenure);
    p_int(p, spec->created);
    p_int(p, spec->deadline);
}

static int issue(pg_store *s, const sn_notice_spec *spec, size_t *issued, char *err,
                 size_t errlen)
{
    int cancelled = spec->kind == SN_NOTICE_CANCELLED;
    params p = {0};
    PGresult *r;
    uint64_t n = 0;
    int64_t last;
    int rc;
    if ((r = run(s, Q_MAX_NOTICE, NULL, PGRES_TUPLES_OK, err, errlen, "issue notices")) == NULL)
        return SN_ESTORE;
    last = col_int(r, 0, 0);
    PQclear(r);
    spec_params(spec, &p);
    if ((rc = run_cmd(s, cancelled ? Q_ISSUE_CANCELLED : Q_ISSUE_REASSIGNED, &p, &n, err, errlen,
                      "issue notices")) != SN_OK)
        return rc;
    *issued += (size_t)n;
    if (*issued > 0)
        s->any_open_notices = 1;
    if (s->any_subscriptions) {
        p_int(&p, spec->kind);
        if ((rc = run_cmd(s, Q_ISSUE_SUBSCRIBED, &p, &n, err, errlen, "issue notices")) != SN_OK)
            return rc;
        *issued += (size_t)n;
    }
    if (*issued == 0)
        return SN_OK;
    p.n = 0;
    p_int(&p, last);
    p_int(&p, spec->now_ms);
    return run_cmd(s, Q_ISSUE_DELIVERIES, &p, NULL, err, errlen, "queue deliveries");
}

static int pg_issue_notices(sn_store *base, const sn_notice_spec *spec, size_t *issued,
                            char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    int own, rc;
    *issued = 0;
    if (s->in_tx && !s->any_bindings && !s->any_subscriptions)
        return SN_OK;
    if ((rc = own_begin(s, &own, err, errlen)) != SN_OK)
        return rc;
    /* own_begin read the flags afresh: with no binding and no subscription
     * anywhere, nothing is issued */
    if (s->any_bindings || s->any_subscriptions)
        rc = issue(s, spec, issued, err, errlen);
    return own_end(s, own, rc, err, errlen);
}

static int pg_open_cancellations(sn_store *base, sn_number n, int64_t now, uint32_t *apps,
                                 int64_t *until, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc;
    *apps = 0;
    *until = 0;
    if (s->in_tx && !s->any_open_notices)
        return SN_OK;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, (int64_t)n);
    p_int(&p, now);
    if ((r = run(s, Q_OPEN_CANCELLATIONS, &p, PGRES_TUPLES_OK, err, errlen,
                 "read open notices")) == NULL)
        return SN_ESTORE;
    *apps = (uint32_t)col_int(r, 0, 0);
    *until = col_int(r, 0, 1);
    PQclear(r);
    return SN_OK;
}

static void read_notice(const PGresult *r, int row, int c, sn_notice *n)
{
    memset(n, 0, sizeof(*n));
    n->id = (uint64_t)col_int(r, row, c);
    n->app = (uint32_t)col_int(r, row, c + 1);
    n->number = (sn_number)col_int(r, row, c + 2);
    n->kind = (uint8_t)col_int(r, row, c + 3);
    n->source = (uint8_t)col_int(r, row, c + 4);
    n->event = (uint8_t)col_int(r, row, c + 5);
    n->outcome = (uint8_t)col_int(r, row, c + 6);
    n->has_account = (uint8_t)copy_bytes(n->account, SN_ACCOUNT_HASH_LEN, r, row, c + 7);
    n->tenure = (uint32_t)col_int(r, row, c + 8);
    n->event_at = col_int(r, row, c + 9);
    n->created = col_int(r, row, c + 10);
    n->deadline = col_int(r, row, c + 11);
    n->acked_at = col_int(r, row, c + 12);
    copy_text(n->note, sizeof(n->note), r, row, c + 13);
    copy_text(n->app_name, sizeof(n->app_name), r, row, c + 14);
}

static int pg_list_notices(sn_store *base, const sn_notice_query *nq,
                           int (*fn)(void *, const sn_notice *), void *ctx, char *err,
                           size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc, stop = 0;
    if (nq->filter > SN_NOTICES_OVERDUE)
        return sn_fail(err, errlen, SN_EINVAL, "bad notice filter");
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, nq->app);
    p_int(&p, (int64_t)nq->after);
    p_int(&p, nq->limit);
    p_int(&p, nq->now);
    if ((r = run(s, Q_NOTICES + nq->filter * 2 + (nq->app != 0), &p, PGRES_TUPLES_OK, err, errlen,
                 "list notices")) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r) && !stop; i++) {
        sn_notice n;
        read_notice(r, i, 0, &n);
        stop = fn(ctx, &n);
    }
    PQclear(r);
    return stop;
}

static int pg_get_notice(sn_store *base, uint64_t id, sn_notice *out, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, (int64_t)id);
    if ((r = run(s, Q_NOTICE_GET, &p, PGRES_TUPLES_OK, err, errlen, "read notice")) == NULL)
        return SN_ESTORE;
    rc = PQntuples(r) == 1
             ? SN_OK
             : sn_fail(err, errlen, SN_ENOTFOUND, "no notice %llu", (unsigned long long)id);
    if (rc == SN_OK)
        read_notice(r, 0, 0, out);
    PQclear(r);
    return rc;
}

static int pg_ack_notice(sn_store *base, uint64_t id, int outcome, const char *note, int64_t at,
                         char *err, size_t errlen)
{
    params p = {0};
    p_int(&p, (int64_t)id);
    p_int(&p, outcome);
    p_text(&p, note);
    p_int(&p, at);
    return write_one(to_pg(base), Q_NOTICE_ACK, &p, NULL, err, errlen, "acknowledge notice");
}

/* ---- deliveries ---------------------------------------------------------------- */

static void read_delivery(const PGresult *r, int row, int c, sn_delivery *d)
{
    memset(d, 0, sizeof(*d));
    d->notice = (uint64_t)col_int(r, row, c);
    d->app = (uint32_t)col_int(r, row, c + 1);
    d->number = (sn_number)col_int(r, row, c + 2);
    d->state = (uint8_t)col_int(r, row, c + 3);
    d->attempts = (uint32_t)col_int(r, row, c + 4);
    d->first_at_ms = col_int(r, row, c + 5);
    d->next_at_ms = col_int(r, row, c + 6);
    copy_text(d->last_error, sizeof(d->last_error), r, row, c + 7);
}

static int id_has(const id_set *set, uint64_t id)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i] == id)
            return 1;
    return 0;
}

/* The due query read its rows before taking their claims; a node that held
 * one of them may have written its outcome and released its claim in
 * between (it releases only after its commit is visible). Read the claimed
 * rows again in a new statement: those no longer pending, or attempted
 * since, are released, dropped from `claimed` and listed in *stale (the
 * caller's, empty), so they are not sent twice. */
static int recheck_claims(pg_store *s, const PGresult *due, int claimed_col, id_set *stale,
                          char *err, size_t errlen)
{
    id_set taken = {0};
    params p = {0};
    PGresult *r = NULL;
    char *ids = NULL;
    int rc = SN_OK;
    for (int i = 0; i < PQntuples(due) && rc == SN_OK; i++)
        if (col_int(due, i, claimed_col))
            rc = id_add(&taken, (uint64_t)col_int(due, i, 0));
    if (rc != SN_OK || taken.n == 0)
        goto out;
    if ((ids = id_array(&taken)) == NULL) {
        rc = SN_ENOMEM;
        goto out;
    }
    p_text(&p, ids);
    if ((r = run(s, Q_RECHECK, &p, PGRES_TUPLES_OK, err, errlen, "due deliveries")) == NULL) {
        rc = SN_ESTORE;
        goto out;
    }
    for (int i = 0; i < PQntuples(due) && rc == SN_OK; i++) {
        uint64_t id = (uint64_t)col_int(due, i, 0);
        int still = 0;
        if (!col_int(due, i, claimed_col))
            continue;
        for (int k = 0; k < PQntuples(r) && !still; k++)
            still = (uint64_t)col_int(r, k, 0) == id &&
                    col_int(r, k, 1) == col_int(due, i, DELIVERY_ATTEMPTS_COLUMN);
        if (!still)
            rc = id_add(stale, id);
    }
    if (rc == SN_OK && stale->n > 0) {
        PQclear(r);
        free(ids);
        if ((ids = id_array(stale)) == NULL) {
            rc = SN_ENOMEM;
            goto out;
        }
        p = (params){0};
        p_text(&p, ids);
        if ((r = run(s, Q_UNCLAIM, &p, PGRES_TUPLES_OK, err, errlen, "release claims")) == NULL)
            rc = SN_ESTORE;
        else
            id_remove_all(&s->claimed, stale);
    }
out:
    if (rc == SN_ENOMEM)
        sn_fail(err, errlen, rc, "out of memory");
    PQclear(r);
    free(ids);
    free(taken.v);
    return rc;
}

static int pg_due_deliveries(sn_store *base, int64_t now_ms, int64_t after_at_ms,
                             uint64_t after_notice, uint32_t part, uint32_t nparts, uint32_t limit,
                             int (*fn)(void *, const sn_delivery *, const sn_notice *,
                                       const sn_app *),
                             void *ctx, char *err, size_t errlen)
{
    enum { CLAIMED = DELIVERY_NCOLUMNS + NOTICE_NCOLUMNS + APP_NCOLUMNS };
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    id_set stale = {0}; /* claimed, but sent by another node meanwhile */
    char *held;
    int rc, stop = 0, i;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    if ((held = id_array(&s->claimed)) == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    p_int(&p, now_ms);
    p_int(&p, limit);
    p_int(&p, after_at_ms);
    p_int(&p, (int64_t)after_notice);
    p_int(&p, part);
    p_int(&p, nparts > 0 ? nparts : 1);
    p_text(&p, held);
    r = run(s, Q_DUE, &p, PGRES_TUPLES_OK, err, errlen, "due deliveries");
    free(held);
    if (r == NULL)
        return SN_ESTORE;
    /* every claim taken is recorded, even past a stop: it is released when
     * the delivery's outcome is written */
    for (i = 0; i < PQntuples(r); i++)
        if (col_int(r, i, CLAIMED) && id_add(&s->claimed, (uint64_t)col_int(r, i, 0)) != SN_OK) {
            PQclear(r);
            return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
        }
    if ((rc = recheck_claims(s, r, CLAIMED, &stale, err, errlen)) != SN_OK) {
        PQclear(r);
        free(stale.v);
        return rc;
    }
    for (i = 0; i < PQntuples(r) && !stop; i++) {
        sn_delivery d;
        sn_notice n;
        sn_app a;
        if (stale.n > 0 && id_has(&stale, (uint64_t)col_int(r, i, 0)))
            continue; /* another node sent it meanwhile (recheck_claims) */
        read_delivery(r, i, 0, &d);
        read_notice(r, i, DELIVERY_NCOLUMNS, &n);
        read_app(r, i, DELIVERY_NCOLUMNS + NOTICE_NCOLUMNS, &a);
        snprintf(d.app_name, sizeof(d.app_name), "%s", a.name);
        d.claimed_elsewhere = !col_int(r, i, CLAIMED);
        stop = fn(ctx, &d, &n, &a);
    }
    PQclear(r);
    free(stale.v);
    return stop;
}

static int pg_relax_durability(sn_store *base, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    int rc = exec_sql(s, "SET synchronous_commit = off", err, errlen, "relax durability");
    if (rc == SN_OK)
        s->relaxed = 1;
    return rc;
}

static int pg_update_delivery(sn_store *base, const sn_delivery *d, char *err, size_t errlen)
{
    params p = {0};
    p_int(&p, (int64_t)d->notice);
    p_int(&p, d->state);
    p_int(&p, d->attempts);
    p_int(&p, d->first_at_ms);
    p_int(&p, d->next_at_ms);
    p_text(&p, d->last_error[0] != '\0' ? d->last_error : NULL);
    pg_store *s = to_pg(base);
    int own, rc = own_begin(s, &own, err, errlen);
    if (rc != SN_OK)
        return rc;
    rc = run_cmd(s, Q_DELIVERY_PUT, &p, NULL, err, errlen, "update delivery");
    if (rc == SN_OK && (rc = id_add(&s->written, d->notice)) != SN_OK)
        rc = sn_fail(err, errlen, rc, "out of memory");
    return own_end(s, own, rc, err, errlen);
}

static int pg_list_deliveries(sn_store *base, uint32_t app, int state, uint64_t after,
                              uint32_t limit, int (*fn)(void *, const sn_delivery *), void *ctx,
                              char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc, stop = 0;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, app);
    p_int(&p, state);
    p_int(&p, (int64_t)after);
    p_int(&p, limit);
    if ((r = run(s, Q_DELIVERIES + (app != 0), &p, PGRES_TUPLES_OK, err, errlen,
                 "list deliveries")) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r) && !stop; i++) {
        sn_delivery d;
        read_delivery(r, i, 0, &d);
        copy_text(d.app_name, sizeof(d.app_name), r, i, DELIVERY_NCOLUMNS);
        stop = fn(ctx, &d);
    }
    PQclear(r);
    return stop;
}

static int pg_delivery_counts(sn_store *base, uint32_t app, uint64_t counts[3], char *err,
                              size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc;
    counts[0] = counts[1] = counts[2] = 0;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, app);
    if ((r = run(s, Q_DELIVERY_COUNTS, &p, PGRES_TUPLES_OK, err, errlen,
                 "count deliveries")) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r); i++) {
        int64_t state = col_int(r, i, 0);
        if (state >= 0 && state <= SN_DELIVERY_DEAD)
            counts[state] = (uint64_t)col_int(r, i, 1);
    }
    PQclear(r);
    return SN_OK;
}

static int pg_next_delivery(sn_store *base, int64_t *at_ms, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    PGresult *r;
    int rc;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    if ((r = run(s, Q_NEXT_DELIVERY, NULL, PGRES_TUPLES_OK, err, errlen, "next delivery")) ==
        NULL)
        return SN_ESTORE;
    *at_ms = col_int(r, 0, 0);
    PQclear(r);
    return SN_OK;
}

/* ---- disconnections and stats ------------------------------------------------- */

static int pg_list_disconnections(sn_store *base, sn_day since, sn_number after, uint32_t limit,
                                  int (*fn)(void *, sn_number, sn_day, sn_day), void *ctx,
                                  char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc, stop = 0;
    if ((rc = enter_log(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, since);
    p_int(&p, (int64_t)after);
    p_int(&p, limit);
    p_int(&p, SN_DAY_NONE);
    if ((r = run(s, Q_DISCONNECTIONS, &p, PGRES_TUPLES_OK, err, errlen,
                 "list disconnections")) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r) && !stop; i++) {
        /* a reissue is an activation that started a tenure after an earlier
         * one, or after a history that began with something else */
        sn_day cancelled = (sn_day)col_int(r, i, 1);
        sn_day activated = (sn_day)col_int(r, i, 2);
        int reissue = col_int(r, i, 3) > 1 || col_int(r, i, 4) == 0;
        if (cancelled == SN_DAY_NONE || cancelled < since)
            cancelled = SN_DAY_NONE;
        if (!reissue || activated == SN_DAY_NONE || activated < since)
            activated = SN_DAY_NONE;
        stop = fn(ctx, (sn_number)col_int(r, i, 0), cancelled, activated);
    }
    PQclear(r);
    return stop;
}

static int pg_app_stats(sn_store *base, int64_t now, int (*fn)(void *, const sn_app_stats *),
                        void *ctx, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc, stop = 0;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, now);
    if ((r = run(s, Q_APP_STATS, &p, PGRES_TUPLES_OK, err, errlen, "app stats")) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r) && !stop; i++) {
        sn_app_stats st;
        memset(&st, 0, sizeof(st));
        st.app = (uint32_t)col_int(r, i, 0);
        copy_text(st.name, sizeof(st.name), r, i, 1);
        st.webhook = !PQgetisnull(r, i, 2);
        st.bindings = (uint64_t)col_int(r, i, 3);
        st.numbers = (uint64_t)col_int(r, i, 4);
        st.notices = (uint64_t)col_int(r, i, 5);
        st.acknowledged = (uint64_t)col_int(r, i, 6);
        st.overdue = (uint64_t)col_int(r, i, 7);
        st.pending = (uint64_t)col_int(r, i, 8);
        st.dead = (uint64_t)col_int(r, i, 9);
        stop = fn(ctx, &st);
    }
    PQclear(r);
    return stop;
}

/* ---- subscribers: SMS, sign-in, requests, complaints (version 3) ------------ */

static void copy_lang(char *dst, const PGresult *r, int row, int col)
{
    copy_text(dst, SN_LANG_LEN + 1, r, row, col);
}

static void read_sms(const PGresult *r, int row, sn_sms_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->id = (uint64_t)col_int(r, row, 0);
    m->number = (sn_number)col_int(r, row, 1);
    m->purpose = (uint8_t)col_int(r, row, 2);
    m->state = (uint8_t)col_int(r, row, 3);
    copy_lang(m->lang, r, row, 4);
    copy_text(m->text, sizeof(m->text), r, row, 5);
    m->created = col_int(r, row, 6);
    m->attempts = (uint32_t)col_int(r, row, 7);
    m->next_at_ms = col_int(r, row, 8);
    m->sent_at = col_int(r, row, 9);
    copy_text(m->error, sizeof(m->error), r, row, 10);
}

/* One write statement returning one id (an INSERT ... RETURNING id). */
static int insert_id(pg_store *s, int q, const params *p, uint64_t *id, char *err, size_t errlen,
                     const char *what)
{
    PGresult *r;
    int own, rc = own_begin(s, &own, err, errlen);
    if (rc != SN_OK)
        return rc;
    if ((r = run(s, q, p, PGRES_TUPLES_OK, err, errlen, what)) == NULL) {
        rc = SN_ESTORE;
    } else {
        *id = (uint64_t)col_int(r, 0, 0);
        PQclear(r);
    }
    return own_end(s, own, rc, err, errlen);
}

static int pg_sms_add(sn_store *base, const sn_sms_msg *m, uint64_t *id, char *err,
                      size_t errlen)
{
    params p = {0};
    p_int(&p, (int64_t)m->number);
    p_int(&p, m->purpose);
    p_int(&p, m->state);
    p_text(&p, m->lang);
    p_text(&p, m->text);
    p_int(&p, m->created);
    p_int(&p, m->next_at_ms);
    return insert_id(to_pg(base), Q_SMS_ADD, &p, id, err, errlen, "queue sms");
}

static int sms_rows(pg_store *s, int q, const params *p, int (*fn)(void *, const sn_sms_msg *),
                    void *ctx, char *err, size_t errlen, const char *what)
{
    PGresult *r;
    int rc, stop = 0;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    if ((r = run(s, q, p, PGRES_TUPLES_OK, err, errlen, what)) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r) && !stop; i++) {
        sn_sms_msg m;
        read_sms(r, i, &m);
        stop = fn(ctx, &m);
    }
    PQclear(r);
    return stop;
}

static int pg_sms_list(sn_store *base, sn_number n, int state, uint64_t after, uint32_t limit,
                       int (*fn)(void *, const sn_sms_msg *), void *ctx, char *err, size_t errlen)
{
    params p = {0};
    p_int(&p, (int64_t)n);
    p_int(&p, state);
    p_int(&p, (int64_t)after);
    p_int(&p, limit);
    return sms_rows(to_pg(base), Q_SMS_LIST, &p, fn, ctx, err, errlen, "list sms");
}

static int pg_sms_due(sn_store *base, int64_t now_ms, uint32_t limit,
                      int (*fn)(void *, const sn_sms_msg *), void *ctx, char *err, size_t errlen)
{
    params p = {0};
    p_int(&p, now_ms);
    p_int(&p, limit);
    return sms_rows(to_pg(base), Q_SMS_DUE, &p, fn, ctx, err, errlen, "due sms");
}

static int pg_sms_update(sn_store *base, const sn_sms_msg *m, char *err, size_t errlen)
{
    params p = {0};
    p_int(&p, (int64_t)m->id);
    p_int(&p, m->state);
    p_int(&p, m->attempts);
    p_int(&p, m->next_at_ms);
    p_int(&p, m->sent_at);
    p_text(&p, m->error[0] != '\0' ? m->error : NULL);
    return write_one(to_pg(base), Q_SMS_UPDATE, &p, NULL, err, errlen, "update sms");
}

static int pg_otp_get(sn_store *base, sn_number n, sn_otp *out, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, (int64_t)n);
    if ((r = run(s, Q_OTP_GET, &p, PGRES_TUPLES_OK, err, errlen, "read code")) == NULL)
        return SN_ESTORE;
    rc = PQntuples(r) == 1 ? SN_OK : sn_fail(err, errlen, SN_ENOTFOUND, "no code");
    if (rc == SN_OK) {
        memset(out, 0, sizeof(*out));
        out->number = n;
        copy_bytes(out->code_hash, SN_SECRET_HASH_LEN, r, 0, 0);
        out->created = col_int(r, 0, 1);
        out->expires = col_int(r, 0, 2);
        out->attempts = (uint32_t)col_int(r, 0, 3);
        out->locked_until = col_int(r, 0, 4);
        copy_lang(out->lang, r, 0, 5);
    }
    PQclear(r);
    return rc;
}

static int pg_otp_put(sn_store *base, const sn_otp *o, char *err, size_t errlen)
{
    params p = {0};
    p_int(&p, (int64_t)o->number);
    p_bytes(&p, o->code_hash, SN_SECRET_HASH_LEN);
    p_int(&p, o->created);
    p_int(&p, o->expires);
    p_int(&p, o->attempts);
    p_int(&p, o->locked_until);
    p_text(&p, o->lang);
    return write_one(to_pg(base), Q_OTP_PUT, &p, NULL, err, errlen, "write code");
}

static int pg_otp_delete(sn_store *base, sn_number n, char *err, size_t errlen)
{
    params p = {0};
    p_int(&p, (int64_t)n);
    return write_one(to_pg(base), Q_OTP_DELETE, &p, NULL, err, errlen, "delete code");
}

static int pg_rate_hit(sn_store *base, const char *bucket, int64_t window, uint32_t *count,
                       char *err, size_t errlen)
{
    params p = {0};
    uint64_t hits = 0;
    p_text(&p, bucket);
    p_int(&p, window);
    int rc = insert_id(to_pg(base), Q_RATE_HIT, &p, &hits, err, errlen, "rate limit");
    if (rc == SN_OK)
        *count = (uint32_t)hits;
    return rc;
}

static int pg_session_put(sn_store *base, const sn_session *ses, char *err, size_t errlen)
{
    params p = {0};
    p_bytes(&p, ses->token_hash, SN_SECRET_HASH_LEN);
    p_int(&p, (int64_t)ses->number);
    p_int(&p, ses->tenure);
    p_int(&p, ses->cancel_day);
    p_int(&p, ses->created);
    p_int(&p, ses->expires);
    p_text(&p, ses->lang);
    return write_one(to_pg(base), Q_SESSION_PUT, &p, NULL, err, errlen, "write session");
}

static int pg_session_get(sn_store *base, const uint8_t hash[SN_SECRET_HASH_LEN], sn_session *out,
                          char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_bytes(&p, hash, SN_SECRET_HASH_LEN);
    if ((r = run(s, Q_SESSION_GET, &p, PGRES_TUPLES_OK, err, errlen, "read session")) == NULL)
        return SN_ESTORE;
    rc = PQntuples(r) == 1 ? SN_OK : sn_fail(err, errlen, SN_ENOTFOUND, "no session");
    if (rc == SN_OK) {
        memset(out, 0, sizeof(*out));
        memcpy(out->token_hash, hash, SN_SECRET_HASH_LEN);
        out->number = (sn_number)col_int(r, 0, 0);
        out->tenure = (uint32_t)col_int(r, 0, 1);
        out->cancel_day = (sn_day)col_int(r, 0, 2);
        out->created = col_int(r, 0, 3);
        out->expires = col_int(r, 0, 4);
        copy_lang(out->lang, r, 0, 5);
    }
    PQclear(r);
    return rc;
}

static int pg_session_delete(sn_store *base, const uint8_t hash[SN_SECRET_HASH_LEN], char *err,
                             size_t errlen)
{
    params p = {0};
    p_bytes(&p, hash, SN_SECRET_HASH_LEN);
    return write_one(to_pg(base), Q_SESSION_DELETE, &p, NULL, err, errlen, "delete session");
}

/* Expired sessions, dead and unlocked codes, old rate-limit windows: one
 * transaction (SQLite runs three autocommit statements; the rows are the same). */
static int pg_subscriber_purge(sn_store *base, int64_t now, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    int own, rc = own_begin(s, &own, err, errlen);
    if (rc != SN_OK)
        return rc;
    p_int(&p, now);
    if ((rc = run_cmd(s, Q_PURGE_SESSIONS, &p, NULL, err, errlen, "purge")) == SN_OK &&
        (rc = run_cmd(s, Q_PURGE_OTP, &p, NULL, err, errlen, "purge")) == SN_OK)
        rc = run_cmd(s, Q_PURGE_RATES, &p, NULL, err, errlen, "purge");
    return own_end(s, own, rc, err, errlen);
}

static int pg_number_bindings(sn_store *base, sn_number n,
                              int (*fn)(void *, const sn_binding *, const char *, const char *),
                              void *ctx, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc, stop = 0;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, (int64_t)n);
    if ((r = run(s, Q_NUMBER_BINDINGS, &p, PGRES_TUPLES_OK, err, errlen,
                 "bindings of a number")) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r) && !stop; i++) {
        sn_binding b = {.number = n};
        b.app = (uint32_t)col_int(r, i, 0);
        copy_bytes(b.account, SN_ACCOUNT_HASH_LEN, r, i, 1);
        b.bound_at = col_int(r, i, 2);
        b.tenure = (uint32_t)col_int(r, i, 3);
        stop = fn(ctx, &b, PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
    }
    PQclear(r);
    return stop;
}

static int pg_set_app_display(sn_store *base, uint32_t app, const char *display, char *err,
                              size_t errlen)
{
    params p = {0};
    p_int(&p, app);
    p_text(&p, display);
    return write_one(to_pg(base), Q_APP_DISPLAY_SET, &p, NULL, err, errlen, "set display name");
}

static int pg_app_display(sn_store *base, uint32_t app, char display[SN_DISPLAY_NAME_MAX + 1],
                          char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, app);
    if ((r = run(s, Q_APP_DISPLAY_GET, &p, PGRES_TUPLES_OK, err, errlen,
                 "read display name")) == NULL)
        return SN_ESTORE;
    rc = PQntuples(r) == 1 ? SN_OK : sn_fail(err, errlen, SN_ENOTFOUND, "no app %u", app);
    if (rc == SN_OK)
        copy_text(display, SN_DISPLAY_NAME_MAX + 1, r, 0, 0);
    PQclear(r);
    return rc;
}

static int add_request(pg_store *s, sn_request *rq, int64_t now_ms, size_t *issued, char *err,
                       size_t errlen)
{
    params p = {0};
    PGresult *r;
    uint64_t n = 0;
    int64_t last;
    int rc;
    p_int(&p, (int64_t)rq->number);
    p_int(&p, rq->tenure);
    p_int(&p, rq->app);
    p_int(&p, rq->scope);
    p_int(&p, rq->created);
    p_int(&p, rq->deadline);
    if ((r = run(s, Q_REQUEST_ADD, &p, PGRES_TUPLES_OK, err, errlen, "add request")) == NULL)
        return SN_ESTORE;
    rq->id = (uint64_t)col_int(r, 0, 0);
    PQclear(r);
    if ((r = run(s, Q_MAX_NOTICE, NULL, PGRES_TUPLES_OK, err, errlen, "add request")) == NULL)
        return SN_ESTORE;
    last = col_int(r, 0, 0);
    PQclear(r);
    p.n = 0;
    p_int(&p, (int64_t)rq->number);
    p_int(&p, rq->app);
    p_int(&p, rq->scope);
    p_int(&p, rq->tenure);
    p_int(&p, rq->created);
    p_int(&p, rq->deadline);
    p_int(&p, (int64_t)rq->id);
    if ((rc = run_cmd(s, Q_REQUEST_NOTICES, &p, &n, err, errlen, "issue unbind requests")) !=
        SN_OK)
        return rc;
    *issued = (size_t)n;
    if (n == 0)
        return SN_OK;
    s->any_open_notices = 1;
    p.n = 0;
    p_int(&p, last);
    p_int(&p, now_ms);
    return run_cmd(s, Q_ISSUE_DELIVERIES, &p, NULL, err, errlen, "queue deliveries");
}

static int pg_add_request(sn_store *base, sn_request *rq, int64_t now_ms, size_t *issued,
                          char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    int own, rc = own_begin(s, &own, err, errlen);
    *issued = 0;
    if (rc != SN_OK)
        return rc;
    return own_end(s, own, add_request(s, rq, now_ms, issued, err, errlen), err, errlen);
}

#define SN_REQUESTS_LISTED 500 /* newest first; older ones are history */

static int pg_list_requests(sn_store *base, sn_number n, uint32_t tenure,
                            int (*fn)(void *, const sn_request *), void *ctx, char *err,
                            size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc, stop = 0;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, (int64_t)n);
    p_int(&p, tenure);
    p_int(&p, SN_REQUESTS_LISTED);
    if ((r = run(s, Q_REQUEST_LIST, &p, PGRES_TUPLES_OK, err, errlen, "list requests")) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r) && !stop; i++) {
        sn_request rq;
        memset(&rq, 0, sizeof(rq));
        rq.number = n;
        rq.tenure = tenure;
        rq.id = (uint64_t)col_int(r, i, 0);
        rq.app = (uint32_t)col_int(r, i, 1);
        rq.scope = (uint8_t)col_int(r, i, 2);
        rq.created = col_int(r, i, 3);
        rq.deadline = col_int(r, i, 4);
        copy_text(rq.app_name, sizeof(rq.app_name), r, i, 5);
        copy_text(rq.display, sizeof(rq.display), r, i, 6);
        rq.notices = (uint32_t)col_int(r, i, 7);
        rq.acknowledged = (uint32_t)col_int(r, i, 8);
        for (int o = SN_OUTCOME_UNBOUND; o <= SN_OUTCOME_REFUSED; o++)
            rq.outcomes[o] = (uint32_t)col_int(r, i, 8 + o);
        stop = fn(ctx, &rq);
    }
    PQclear(r);
    return stop;
}

static int pg_add_complaint(sn_store *base, sn_complaint *c, char *err, size_t errlen)
{
    params p = {0};
    p_int(&p, (int64_t)c->number);
    p_int(&p, c->tenure);
    p_int(&p, c->app);
    p_int(&p, c->carrier);
    p_int(&p, c->kind);
    p_text(&p, c->text);
    p_int(&p, c->created);
    p_int(&p, c->period > 0 ? c->period : 1);
    return insert_id(to_pg(base), Q_COMPLAINT_ADD, &p, &c->id, err, errlen, "add complaint");
}

static void read_complaint(const PGresult *r, int row, sn_complaint *c)
{
    memset(c, 0, sizeof(*c));
    c->id = (uint64_t)col_int(r, row, 0);
    c->number = (sn_number)col_int(r, row, 1);
    c->tenure = (uint32_t)col_int(r, row, 2);
    c->app = (uint32_t)col_int(r, row, 3);
    c->carrier = (uint32_t)col_int(r, row, 4);
    c->kind = (uint8_t)col_int(r, row, 5);
    c->resolved_level = (uint8_t)col_int(r, row, 6);
    c->created = col_int(r, row, 7);
    c->period = col_int(r, row, 8);
    c->resolved_at = col_int(r, row, 9);
    copy_text(c->text, sizeof(c->text), r, row, 10);
    copy_text(c->resolution, sizeof(c->resolution), r, row, 11);
    copy_text(c->app_name, sizeof(c->app_name), r, row, 12);
    copy_text(c->display, sizeof(c->display), r, row, 13);
    copy_text(c->carrier_name, sizeof(c->carrier_name), r, row, 14);
}

/* The filters combine freely (32 shapes), so the statement is written per
 * call, as SQLite's is, and planned for its own filters. */
static int pg_list_complaints(sn_store *base, const sn_complaint_query *cq,
                              int (*fn)(void *, const sn_complaint *), void *ctx, char *err,
                              size_t errlen)
{
    static const Oid types[8] = {20, 20, 20, 20, 20, 20, 20, 20};
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    char sql[1024];
    int rc, stop = 0;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    snprintf(sql, sizeof(sql),
             "SELECT " COMPLAINT_COLUMNS " WHERE c.id > $7%s%s%s%s%s ORDER BY c.id LIMIT $8",
             cq->number != 0 ? " AND c.number = $1 AND c.tenure = $2" : "",
             cq->app != 0 ? " AND c.app = $3" : "", cq->carrier != 0 ? " AND c.carrier = $4" : "",
             cq->min_level > 0 ? " AND " COMPLAINT_LEVEL_SQL " >= $6" : "",
             cq->open_only ? " AND c.resolved_at = 0" : "");
    p_int(&p, (int64_t)cq->number);
    p_int(&p, cq->tenure);
    p_int(&p, cq->app);
    p_int(&p, cq->carrier);
    p_int(&p, cq->now);
    p_int(&p, cq->min_level);
    p_int(&p, (int64_t)cq->after);
    p_int(&p, cq->limit);
    r = PQexecParams(s->conn, sql, p.n, types, p.values, p.lengths, p.formats, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pg_fail(s, r, err, errlen, "list complaints");
        PQclear(r);
        return rc;
    }
    for (int i = 0; i < PQntuples(r) && !stop; i++) {
        sn_complaint c;
        read_complaint(r, i, &c);
        stop = fn(ctx, &c);
    }
    PQclear(r);
    return stop;
}

static int pg_get_complaint(sn_store *base, uint64_t id, sn_complaint *out, char *err,
                            size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc;
    if ((rc = enter(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, (int64_t)id);
    if ((r = run(s, Q_COMPLAINT_GET, &p, PGRES_TUPLES_OK, err, errlen, "read complaint")) == NULL)
        return SN_ESTORE;
    rc = PQntuples(r) == 1
             ? SN_OK
             : sn_fail(err, errlen, SN_ENOTFOUND, "no complaint %llu", (unsigned long long)id);
    if (rc == SN_OK)
        read_complaint(r, 0, out);
    PQclear(r);
    return rc;
}

static int pg_resolve_complaint(sn_store *base, uint64_t id, int level, const char *resolution,
                                int64_t at, char *err, size_t errlen)
{
    params p = {0};
    p_int(&p, (int64_t)id);
    p_int(&p, at);
    p_int(&p, level + 1);
    p_text(&p, resolution);
    return write_one(to_pg(base), Q_COMPLAINT_RESOLVE, &p, NULL, err, errlen,
                     "resolve complaint");
}

/* ---- following the changes (several nodes) --------------------------------
 * numbers.seq is the change number of a row's last write (schema version 4):
 * writers take them under the writer lock, which PostgreSQL releases only
 * after the commit is visible, so they become visible in increasing order
 * (docs/internals/postgres.md, "Several nodes"). */

static int pg_change_cursor(sn_store *base, uint64_t *seq, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    PGresult *r;
    int rc;
    if ((rc = enter_log(s, err, errlen)) != SN_OK)
        return rc;
    if ((r = run(s, Q_CHANGE_CURSOR, NULL, PGRES_TUPLES_OK, err, errlen, "read changes")) == NULL)
        return SN_ESTORE;
    *seq = (uint64_t)col_int(r, 0, 0);
    PQclear(r);
    return SN_OK;
}

/* One statement, so one snapshot: a change is in it whole or not at all. */
static int pg_changes_after(sn_store *base, uint64_t after, uint32_t limit,
                            int (*fn)(void *, const sn_number_state *, uint64_t), void *ctx,
                            char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    params p = {0};
    PGresult *r;
    int rc, stop = 0;
    if ((rc = enter_log(s, err, errlen)) != SN_OK)
        return rc;
    p_int(&p, (int64_t)after);
    p_int(&p, limit);
    if ((r = run(s, Q_CHANGES, &p, PGRES_TUPLES_OK, err, errlen, "read changes")) == NULL)
        return SN_ESTORE;
    for (int i = 0; i < PQntuples(r) && !stop; i++) {
        sn_number_state st;
        read_state(r, i, 2, (sn_number)col_int(r, i, 1), &st);
        stop = fn(ctx, &st, (uint64_t)col_int(r, i, 0));
    }
    PQclear(r);
    return stop;
}

/* LISTEN on this handle's connection (after a reconnect if it was lost);
 * wait_changes knows the session by its server process id. */
static int pg_listen(sn_store *base, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    int rc;
    if (s->in_tx || s->scans > 0)
        return sn_fail(err, errlen, SN_ESTORE, "listen: a transaction or a scan is open");
    s->listen_pid = 0;
    if ((rc = enter(s, err, errlen)) != SN_OK ||
        (rc = exec_sql(s, "LISTEN " CHANGES_CHANNEL, err, errlen, "listen")) != SN_OK)
        return rc;
    s->listen_pid = PQbackendPID(s->conn);
    return SN_OK;
}

/* Drop the notifications libpq has read; 1 when there was one. */
static int drain_notifies(pg_store *s)
{
    PGnotify *n;
    int any = 0;
    while ((n = PQnotifies(s->conn)) != NULL) {
        any = 1;
        PQfreemem(n);
    }
    return any;
}

static int64_t monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Notifications arrive on the idle connection: poll its socket (and
 * wake_fd), read what came, keep waiting until one did or time is up. A
 * session other than the one that LISTENed (a reset connection) no longer
 * hears anything: that is a failure, so the caller listens again. */
static int pg_wait_changes(sn_store *base, int timeout_ms, int wake_fd, char *err, size_t errlen)
{
    pg_store *s = to_pg(base);
    int64_t until = monotonic_ms() + timeout_ms;
    for (;;) {
        if (PQstatus(s->conn) != CONNECTION_OK)
            return pg_fail(s, NULL, err, errlen, "wait for changes");
        if (s->listen_pid == 0 || PQbackendPID(s->conn) != s->listen_pid)
            return sn_fail(err, errlen, SN_ESTORE,
                           "wait for changes: not listening (the connection was reset)");
        if (drain_notifies(s))
            return 1;
        int64_t left = until - monotonic_ms();
        if (left <= 0)
            return 0;
        struct pollfd fds[2] = {{PQsocket(s->conn), POLLIN, 0}, {wake_fd, POLLIN, 0}};
        int n = poll(fds, 2, (int)left);
        if (n < 0 && errno != EINTR)
            return sn_fail(err, errlen, SN_ESTORE, "wait for changes: %s", strerror(errno));
        if (n > 0 && fds[1].revents != 0)
            return 1;
        if (n > 0 && fds[0].revents != 0 && PQconsumeInput(s->conn) != 1)
            return pg_fail(s, NULL, err, errlen, "wait for changes");
    }
}

static const sn_store_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .reachable = pg_reachable,
    .get_state = pg_get_state,
    .put_state = pg_put_state,
    .find_event = pg_find_event,
    .append_event = pg_append_event,
    .carrier_id = pg_carrier_id,
    .scan_states = pg_scan_states,
    .scan_events = pg_scan_events,
    .integrity = pg_integrity,
    .add_key = pg_add_key,
    .list_keys = pg_list_keys,
    .revoke_key = pg_revoke_key,
    .add_range = pg_add_range,
    .list_ranges = pg_list_ranges,
    .app_id = pg_app_id,
    .get_app = pg_get_app,
    .set_webhook = pg_set_webhook,
    .set_subscription = pg_set_subscription,
    .put_binding = pg_put_binding,
    .delete_binding = pg_delete_binding,
    .list_bindings = pg_list_bindings,
    .issue_notices = pg_issue_notices,
    .open_cancellations = pg_open_cancellations,
    .list_notices = pg_list_notices,
    .get_notice = pg_get_notice,
    .ack_notice = pg_ack_notice,
    .due_deliveries = pg_due_deliveries,
    .update_delivery = pg_update_delivery,
    .relax_durability = pg_relax_durability,
    .list_deliveries = pg_list_deliveries,
    .delivery_counts = pg_delivery_counts,
    .next_delivery = pg_next_delivery,
    .list_disconnections = pg_list_disconnections,
    .app_stats = pg_app_stats,
    .sms_add = pg_sms_add,
    .sms_list = pg_sms_list,
    .sms_due = pg_sms_due,
    .sms_update = pg_sms_update,
    .otp_get = pg_otp_get,
    .otp_put = pg_otp_put,
    .otp_delete = pg_otp_delete,
    .rate_hit = pg_rate_hit,
    .session_put = pg_session_put,
    .session_get = pg_session_get,
    .session_delete = pg_session_delete,
    .subscriber_purge = pg_subscriber_purge,
    .number_bindings = pg_number_bindings,
    .set_app_display = pg_set_app_display,
    .app_display = pg_app_display,
    .add_request = pg_add_request,
    .list_requests = pg_list_requests,
    .add_complaint = pg_add_complaint,
    .list_complaints = pg_list_complaints,
    .get_complaint = pg_get_complaint,
    .resolve_complaint = pg_resolve_complaint,
    .change_cursor = pg_change_cursor,
    .changes_after = pg_changes_after,
    .listen = pg_listen,
    .wait_changes = pg_wait_changes,
};

/* ---- opening: schema and rules ------------------------------------------------ */

static int has_schema(pg_store *s, int *yes, char *err, size_t errlen)
{
    PGresult *r = PQexec(s->conn, "SELECT to_regclass('meta') IS NOT NULL");
    int rc = SN_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pg_fail(s, r, err, errlen, "cannot read the database");
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
    s->in_tx = 1;
    if ((rc = exec_sql(s, begin_sql, err, errlen, "create schema")) != SN_OK ||
        (rc = has_schema(s, &exists, err, errlen)) != SN_OK)
        goto fail;
    if (!exists) {
        snprintf(meta, sizeof(meta),
                 "INSERT INTO meta(key, value) VALUES ('schema_version', '%d'), "
                 "('country_code', '%u'), ('min_aging_days', '%u'), ('tz_minutes', '%d')",
                 SCHEMA_VERSION, rules->default_cc, rules->min_aging_days, rules->tz_minutes);
        if ((rc = exec_sql(s, schema_sql, err, errlen, "create schema")) != SN_OK)
            goto fail;
        for (int v = BASE_VERSION; v < SCHEMA_VERSION && rc == SN_OK; v++)
            rc = exec_sql(s, migrations[v], err, errlen, "create schema");
        if (rc != SN_OK || (rc = exec_sql(s, meta, err, errlen, "create schema")) != SN_OK)
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
        rc = pg_fail(s, r, err, errlen, "read settings");
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
        "UPDATE meta SET value = '" SN_PG_STR(SCHEMA_VERSION) "' WHERE key = 'schema_version'";
    PGresult *meta = NULL;
    long version = 0;
    int rc;
    s->in_tx = 1;
    if ((rc = exec_sql(s, begin_sql, err, errlen, "migrate")) != SN_OK ||
        (rc = read_meta(s, &meta, &version, err, errlen)) != SN_OK)
        goto fail;
    for (long v = version; v >= BASE_VERSION && v < SCHEMA_VERSION && rc == SN_OK; v++)
        rc = exec_sql(s, migrations[v], err, errlen, "migrate");
    if (rc != SN_OK || (version < SCHEMA_VERSION &&
                        (rc = exec_sql(s, set_version, err, errlen, "migrate")) != SN_OK))
        goto fail;
    PQclear(meta);
    return pg_commit(&s->base, err, errlen);
fail:
    PQclear(meta);
    pg_rollback(&s->base);
    return rc;
}

/* The rules the store was created with, after checking (and migrating)
 * its schema version. */
static int load_rules(pg_store *s, char *err, size_t errlen)
{
    PGresult *r = NULL;
    long version = 0, cc = 0, aging = 0, tz = 0;
    int rc = read_meta(s, &r, &version, err, errlen);
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

/* Connect with bounds on waiting for a server that does not answer: a
 * connection attempt gives up after CONNECT_TIMEOUT_S (PQreset reuses the
 * setting, so a reconnect does too), and TCP keepalives notice a peer gone
 * silent in about a minute rather than TCP's default two hours. The URL's
 * own settings win: its parameters are applied after these (the dbname
 * entry carries the whole URL and comes last). */
#define CONNECT_TIMEOUT_S "10"
static PGconn *connect_with_defaults(const char *url)
{
    const char *const keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval",
                                "keepalives_count", "dbname", NULL};
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
    s->base.ops = &pg_ops;
    s->events_sorted = 1;
    s->conn = connect_with_defaults(url);
    if (s->conn == NULL) {
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory");
        goto fail;
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        /* the message names host, port and database, never the password */
        const char *msg = PQerrorMessage(s->conn);
        rc = sn_fail(err, errlen, SN_ESTORE, "cannot connect to PostgreSQL: %.*s", line_len(msg),
                     msg);
        goto fail;
    }
    if ((rc = configure(s, err, errlen)) != SN_OK ||
        (rc = ensure_schema(s, rules != NULL ? rules : &defaults, err, errlen)) != SN_OK ||
        (rc = load_rules(s, err, errlen)) != SN_OK)
        goto fail;
    *out = &s->base;
    return SN_OK;
fail:
    pg_close(&s->base);
    return rc;
}
