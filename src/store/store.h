/*
 * store.h - the storage interface: the event log, the current state per
 * number, carriers and the deployment's settings.
 *
 * One interface, one file per backend (store_sqlite.c; PostgreSQL later).
 * The ledger (ledger.h) drives it with small primitives inside a transaction
 * it opens and closes; a backend never decides lifecycle questions.
 *
 * Durability contract every backend keeps:
 *   1. commit returns SN_OK only once the transaction is durable (survives
 *      kill -9 of the process; with SQLite, WAL with synchronous=FULL also
 *      survives power loss);
 *   2. a transaction is all or nothing: after rollback, or a crash before
 *      commit returned, none of its writes are visible;
 *   3. the event log is append-only: events are inserted, never updated or
 *      deleted; a number's state row always equals the result of applying
 *      its logged events in order (both are written in one transaction).
 *
 * A store handle is used by one thread at a time.
 */
#ifndef SN_STORE_H
#define SN_STORE_H

#include "core/lifecycle.h"
#include "core/notice.h"
#include "crypto/secret.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sn_store sn_store;

/* An event as the log records it: the core event plus what only the log keeps. */
typedef struct {
    sn_event ev;
    const char *event_id; /* carrier's event id, NULL when absent; not owned */
    uint32_t event_id_len;
    uint32_t index; /* position in the caller's input (line, array index) */
    uint8_t has_id6;
    uint8_t flags; /* SN_LOG_* */
    uint8_t id6_hash[SN_ID6_HASH_LEN];
} sn_log_event;

#define SN_LOG_FORCED 1     /* the carrier overrode the reissue guard */
#define SN_LOG_NEW_TENURE 2 /* the event started a new tenure (set by the ledger) */

#define SN_EVENT_ID_MAX 64
#define SN_CARRIER_NAME_MAX 64

/* Open (and create when absent) the store at path. When the store is new it
 * is initialised with *rules (or the defaults when rules is NULL); an existing
 * store keeps the rules it was created with. */
int sn_store_open(const char *path, const sn_rules *rules, sn_store **out, char *err,
                  size_t errlen);

/* Close; accepts NULL. An open transaction is rolled back. */
void sn_store_close(sn_store *s);

/* The jurisdiction rules recorded in the store. */
const sn_rules *sn_store_rules(const sn_store *s);

/* 0 when the last operation failed because the database server could not be
 * reached (a lost connection, or no server answering); 1 otherwise, and
 * always for SQLite. Lets callers tell "retry later" (HTTP 503) from a
 * failure of the request itself. The next operation tries to reconnect. */
int sn_store_reachable(sn_store *s);

/* True when the store was created by this open. */
int sn_store_created(const sn_store *s);

int sn_store_begin(sn_store *s, char *err, size_t errlen);
int sn_store_commit(sn_store *s, char *err, size_t errlen);
void sn_store_rollback(sn_store *s);

/* The state of number n; an absent number yields an UNSEEN state. */
int sn_store_get_state(sn_store *s, sn_number n, sn_number_state *out, char *err, size_t errlen);

/* The states of numbers[0..n), which ascend strictly, into out[0..n): as n
 * calls of sn_store_get_state, at less cost for numbers close together. */
int sn_store_get_states(sn_store *s, const sn_number *numbers, size_t n, sn_number_state *out,
                        char *err, size_t errlen);

/* Insert or replace a number's state (inside a transaction). */
int sn_store_put_state(sn_store *s, const sn_number_state *st, char *err, size_t errlen);

/* Is an event identical to e already logged: same number, kind and time, and
 * the same event id when both have one? Sets *found to 0 or 1. */
int sn_store_find_event(sn_store *s, const sn_log_event *e, int *found, char *err, size_t errlen);

/* Append e to the log as the number's event with the given ordinal (1-based). */
int sn_store_append_event(sn_store *s, const sn_log_event *e, uint32_t ordinal, char *err,
                          size_t errlen);

/* The id of carrier `name`, created when absent and create is set
 * (SN_ENOTFOUND otherwise). */
int sn_store_carrier_id(sn_store *s, const char *name, int create, uint32_t *id, char *err,
                        size_t errlen);

/* Call fn for every number's state, in number order (used to build the
 * serving index and to verify consistency). A non-zero return from fn stops
 * the scan and is returned. */
int sn_store_scan_states(sn_store *s, int (*fn)(void *ctx, const sn_number_state *st), void *ctx,
                         char *err, size_t errlen);

/* Call fn for every logged event of number n in log order. */
int sn_store_scan_events(sn_store *s, sn_number n,
                         int (*fn)(void *ctx, const sn_log_event *e, uint32_t ordinal), void *ctx,
                         char *err, size_t errlen);

/* ---- following the changes (several serve nodes on one server store) -----
 * Every write of a number's state takes a new change number (seq), and
 * seqs become visible in increasing order: once the changes up to seq N
 * were read, reading the changes after N misses none and repeats none (a
 * number changed again shows once, with its latest state and seq). A
 * backend with one process per store (SQLite) does not keep them:
 * sn_store_can_follow is 0 and the calls below fail with SN_ESTORE.
 * docs/internals/postgres.md ("Several nodes") explains why it holds. */

/* 1 when the backend keeps change numbers (PostgreSQL). */
int sn_store_can_follow(const sn_store *s);

/* The highest committed change number (0 when no state was ever written). */
int sn_store_change_cursor(sn_store *s, uint64_t *seq, char *err, size_t errlen);

/* The states written after change `after`, in change order, at most limit:
 * fn gets each with its change number; a non-zero return stops the call
 * and is returned. */
int sn_store_changes_after(sn_store *s, uint64_t after, uint32_t limit,
                           int (*fn)(void *ctx, const sn_number_state *st, uint64_t seq), void *ctx,
                           char *err, size_t errlen);

/* Ask to be woken by commits that write states (PostgreSQL: LISTEN). A
 * connection lost later loses it: call again after sn_store_wait_changes
 * failed. */
int sn_store_listen(sn_store *s, char *err, size_t errlen);

/* Wait at most timeout_ms for a commit that wrote states (after
 * sn_store_listen), or for wake_fd (-1: none; the caller drains it) to be
 * readable. 1 when woken, 0 at the timeout, SN_ESTORE when the connection
 * was lost or is not listening (listen again, then read what was missed). */
int sn_store_wait_changes(sn_store *s, int timeout_ms, int wake_fd, char *err, size_t errlen);

/* An API key as the store keeps it: never the key itself, only its hash. */
typedef enum { SN_ROLE_NONE = 0, SN_ROLE_APP = 1, SN_ROLE_CARRIER = 2, SN_ROLE_ADMIN = 3 } sn_role;

#define SN_KEY_HASH_LEN 32
#define SN_KEY_NAME_MAX 64

typedef struct {
    uint32_t id;
    uint8_t role; /* sn_role */
    uint8_t revoked;
    uint32_t carrier; /* for carrier keys: the carrier's id */
    char name[SN_KEY_NAME_MAX + 1];
    uint8_t hash[SN_KEY_HASH_LEN];
} sn_api_key;

/* Add a key (k->id is ignored); sets *id. */
int sn_store_add_key(sn_store *s, const sn_api_key *k, uint32_t *id, char *err, size_t errlen);

/* Call fn for every key, revoked ones included, in id order. */
int sn_store_list_keys(sn_store *s, int (*fn)(void *ctx, const sn_api_key *k), void *ctx, char *err,
                       size_t errlen);

/* Revoke key id; *found is 0 when there is no such key. */
int sn_store_revoke_key(sn_store *s, uint32_t id, int *found, char *err, size_t errlen);

/* Give carrier `carrier` a number range: an E.164 prefix such as "+86138". */
int sn_store_add_range(sn_store *s, uint32_t carrier, const char *prefix, char *err, size_t errlen);

/* Call fn for every carrier (with no range: prefix NULL) and each of its
 * ranges, in carrier id then prefix order. */
int sn_store_list_ranges(sn_store *s,
                         int (*fn)(void *ctx, uint32_t carrier, const char *name,
                                   const char *prefix),
                         void *ctx, char *err, size_t errlen);

/* ---- apps, bindings, notices, deliveries (docs/internals/notices.md) ---- */

#define SN_APP_NAME_MAX SN_KEY_NAME_MAX
#define SN_URL_MAX 2048
#define SN_WEBHOOK_SECRET_MAX 256
#define SN_NOTE_MAX 1000
#define SN_DELIVERY_ERROR_MAX 200

/* An app: the tenant named by its app keys. */
typedef struct {
    uint32_t id;
    char name[SN_APP_NAME_MAX + 1];
    char url[SN_URL_MAX + 1];               /* "" when no webhook */
    char secret[SN_WEBHOOK_SECRET_MAX + 1]; /* the webhook's signing secret */
    uint8_t sub_cancellations, sub_reissues;
} sn_app;

/* The id of app `name`, created when absent and create is set. */
int sn_store_app_id(sn_store *s, const char *name, int create, uint32_t *id, char *err,
                    size_t errlen);
int sn_store_get_app(sn_store *s, uint32_t id, sn_app *out, char *err, size_t errlen);
/* Set (url non-NULL) or remove (url NULL) an app's webhook. */
int sn_store_set_webhook(sn_store *s, uint32_t app, const char *url, const char *secret, char *err,
                         size_t errlen);
int sn_store_set_subscription(sn_store *s, uint32_t app, int cancellations, int reissues, char *err,
                              size_t errlen);

/* A binding: an app's account (as its keyed hash) bound to a number. */
typedef struct {
    sn_number number;
    uint32_t app;
    uint8_t account[SN_ACCOUNT_HASH_LEN];
    int64_t bound_at;
    uint32_t tenure; /* of the number at bound_at; 0 = before its first record */
} sn_binding;

/* Insert or replace (same number, app, account). */
int sn_store_put_binding(sn_store *s, const sn_binding *b, char *err, size_t errlen);
int sn_store_delete_binding(sn_store *s, uint32_t app, sn_number n,
                            const uint8_t account[SN_ACCOUNT_HASH_LEN], int *found, char *err,
                            size_t errlen);
/* An app's bindings on n, in account-hash order. */
int sn_store_list_bindings(sn_store *s, uint32_t app, sn_number n,
                           int (*fn)(void *ctx, const sn_binding *b), void *ctx, char *err,
                           size_t errlen);

typedef struct {
    uint64_t id;
    uint32_t app;
    sn_number number;
    uint8_t kind;    /* sn_notice_kind */
    uint8_t source;  /* sn_notice_source */
    uint8_t event;   /* sn_event_kind behind it */
    uint8_t outcome; /* sn_outcome; NONE while open */
    uint8_t has_account;
    uint8_t account[SN_ACCOUNT_HASH_LEN];
    uint32_t tenure;                     /* the binding's tenure (subscription: the event's) */
    int64_t event_at, created, deadline; /* deadline 0: none */
    int64_t acked_at;
    char note[SN_NOTE_MAX + 1];
    char app_name[SN_APP_NAME_MAX + 1]; /* filled by list/get */
} sn_notice;

/* What one applied event asks the store to issue (inside the ledger's
 * transaction): binding notices for the bindings the kind selects,
 * subscription notices for subscribed apps holding none of those, and a
 * pending delivery (due at now_ms) for each notice of an app with a webhook. */
typedef struct {
    sn_number number;
    uint8_t kind;  /* sn_notice_kind */
    uint8_t event; /* sn_event_kind */
    uint32_t tenure;
    int64_t event_at, created, deadline, now_ms;
} sn_notice_spec;

int sn_store_issue_notices(sn_store *s, const sn_notice_spec *spec, size_t *issued, char *err,
                           size_t errlen);

/* Open number_cancelled binding notices of n whose deadline is after now:
 * how many apps hold them and the latest deadline. */
int sn_store_open_cancellations(sn_store *s, sn_number n, int64_t now, uint32_t *apps,
                                int64_t *until, char *err, size_t errlen);

typedef enum {
    SN_NOTICES_ALL = 0,
    SN_NOTICES_OPEN = 1,
    SN_NOTICES_ACKNOWLEDGED = 2,
    SN_NOTICES_OVERDUE = 3,
} sn_notice_filter;

typedef struct {
    uint32_t app; /* 0: every app (admin) */
    uint64_t after;
    uint32_t limit;
    uint8_t filter; /* sn_notice_filter */
    int64_t now;    /* for open / overdue */
} sn_notice_query;

/* Notices matching q in id order. */
int sn_store_list_notices(sn_store *s, const sn_notice_query *q,
                          int (*fn)(void *ctx, const sn_notice *n), void *ctx, char *err,
                          size_t errlen);
/* SN_ENOTFOUND when there is no notice id. */
int sn_store_get_notice(sn_store *s, uint64_t id, sn_notice *out, char *err, size_t errlen);
/* Record an acknowledgement (the caller checked it is allowed). */
int sn_store_ack_notice(sn_store *s, uint64_t id, int outcome, const char *note, int64_t at,
                        char *err, size_t errlen);

typedef enum {
    SN_DELIVERY_PENDING = 0,
    SN_DELIVERY_DELIVERED = 1,
    SN_DELIVERY_DEAD = 2
} sn_delivery_state;

typedef struct {
    uint64_t notice;
    uint32_t app;
    sn_number number;
    uint8_t state; /* sn_delivery_state */
    uint32_t attempts;
    int64_t first_at_ms; /* first attempt, 0 before it */
    int64_t next_at_ms;
    char last_error[SN_DELIVERY_ERROR_MAX + 1];
    char app_name[SN_APP_NAME_MAX + 1]; /* filled by list */
    /* Filled by due_deliveries: another handle (another serve node) holds
     * this delivery's claim, so this one must skip it for now. */
    uint8_t claimed_elsewhere;
} sn_delivery;

/* Pending deliveries due at now_ms whose app has a webhook and that have no
 * earlier pending delivery for the same app and number (so deliveries keep
 * their order per number), in (next_at_ms, notice) order after the cursor
 * (after_at_ms, after_notice), only numbers with number % nparts == part
 * (one delivery worker's share), at most limit. fn gets the
 * delivery, its notice and the app (url and secret).
 * Claims (several serve nodes on one server store): each delivery handed to
 * fn is claimed by this handle until its outcome is written by
 * update_delivery and committed, or the handle's connection ends (a node
 * that dies releases its claims at once); a delivery claimed by another
 * handle comes with claimed_elsewhere set and must not be sent. A claimed
 * delivery is not handed out again on this handle. SQLite (one node) never
 * sets claimed_elsewhere. */
int sn_store_due_deliveries(sn_store *s, int64_t now_ms, int64_t after_at_ms,
                            uint64_t after_notice, uint32_t part, uint32_t nparts, uint32_t limit,
                            int (*fn)(void *ctx, const sn_delivery *d, const sn_notice *n,
                                      const sn_app *app),
                            void *ctx, char *err, size_t errlen);
/* Let commits on this handle skip the fsync (SQLite synchronous=NORMAL,
 * PostgreSQL synchronous_commit=off): for writes whose loss in a power
 * failure only repeats work, such as delivery outcomes (a lost "delivered"
 * means one more delivery, which at-least-once allows). Still atomic. */
int sn_store_relax_durability(sn_store *s, char *err, size_t errlen);

/* Write a delivery's state, attempts, times and error. */
int sn_store_update_delivery(sn_store *s, const sn_delivery *d, char *err, size_t errlen);
/* Deliveries of app (0: all) in the given state, notice id order. */
int sn_store_list_deliveries(sn_store *s, uint32_t app, int state, uint64_t after, uint32_t limit,
                             int (*fn)(void *ctx, const sn_delivery *d), void *ctx, char *err,
                             size_t errlen);
/* Deliveries of app per state (counts[SN_DELIVERY_PENDING..DEAD]). */
int sn_store_delivery_counts(sn_store *s, uint32_t app, uint64_t counts[3], char *err,
                             size_t errlen);
/* The earliest next_at_ms of a pending delivery (0 when none). */
int sn_store_next_delivery(sn_store *s, int64_t *at_ms, char *err, size_t errlen);

/* Numbers cancelled or reissued on or after day `since`, in number order
 * after `after` (0: from the start), at most limit: fn gets the day of the
 * number's latest cancellation and latest reissue, SN_DAY_NONE for the one
 * before `since` (or never). Read from the numbers' states, no index. */
int sn_store_list_disconnections(sn_store *s, sn_day since, sn_number after, uint32_t limit,
                                 int (*fn)(void *ctx, sn_number n, sn_day cancelled,
                                           sn_day reissued),
                                 void *ctx, char *err, size_t errlen);

typedef struct {
    uint32_t app;
    char name[SN_APP_NAME_MAX + 1];
    uint64_t bindings, numbers, notices, acknowledged, overdue, pending, dead;
    uint8_t webhook;
} sn_app_stats;

/* Per app: coverage, notices and deliveries. */
int sn_store_app_stats(sn_store *s, int64_t now, int (*fn)(void *ctx, const sn_app_stats *st),
                       void *ctx, char *err, size_t errlen);

/* The backend's own structural check (SQLite: PRAGMA integrity_check).
 * SN_OK, or SN_ESTORE with the first problem found. */
int sn_store_integrity(sn_store *s, char *err, size_t errlen);

/* ---- subscribers: SMS, sign-in, requests, complaints ----------------------
 * (docs/internals/subscribers.md; schema version 3) */

#define SN_SMS_TEXT_MAX 640 /* bytes of UTF-8: about four concatenated segments */
#define SN_LANG_LEN 2       /* "zh" or "en" */
#define SN_DISPLAY_NAME_MAX 128
#define SN_COMPLAINT_TEXT_MAX 2000
#define SN_SECRET_HASH_LEN 32 /* OTP codes and session tokens are kept as these */

typedef enum {
    SN_SMS_PENDING = 0, /* queued for a gateway */
    SN_SMS_SENT = 1,    /* the gateway accepted it (its text is then erased) */
    SN_SMS_FAILED = 2,  /* the gateway refused it until the retries ran out */
    SN_SMS_OUTBOX = 3,  /* kept in the store for development (the outbox driver) */
} sn_sms_state;

typedef enum { SN_SMS_OTP = 1, SN_SMS_REPORT = 2 } sn_sms_purpose;

typedef struct {
    uint64_t id;
    sn_number number;
    uint8_t purpose; /* sn_sms_purpose */
    uint8_t state;   /* sn_sms_state */
    char lang[SN_LANG_LEN + 1];
    char text[SN_SMS_TEXT_MAX + 1];
    int64_t created; /* seconds */
    uint32_t attempts;
    int64_t next_at_ms; /* pending: when to try (again) */
    int64_t sent_at;    /* seconds; 0 before */
    char error[SN_DELIVERY_ERROR_MAX + 1];
} sn_sms_msg;

/* Queue or keep a message (m->id ignored); sets *id. */
int sn_store_sms_add(sn_store *s, const sn_sms_msg *m, uint64_t *id, char *err, size_t errlen);
/* Messages in id order after `after`: of number n (0: all), in state
 * `state` (-1: any), at most limit. */
int sn_store_sms_list(sn_store *s, sn_number n, int state, uint64_t after, uint32_t limit,
                      int (*fn)(void *ctx, const sn_sms_msg *m), void *ctx, char *err,
                      size_t errlen);
/* Pending messages due at now_ms, oldest first, at most limit. */
int sn_store_sms_due(sn_store *s, int64_t now_ms, uint32_t limit,
                     int (*fn)(void *ctx, const sn_sms_msg *m), void *ctx, char *err,
                     size_t errlen);
/* Write a message's state, attempts, times and error; erase its text when
 * it left for the gateway (state SENT or FAILED). */
int sn_store_sms_update(sn_store *s, const sn_sms_msg *m, char *err, size_t errlen);

/* The one live sign-in code of a number, as a keyed hash. */
typedef struct {
    sn_number number;
    uint8_t code_hash[SN_SECRET_HASH_LEN];
    int64_t created, expires; /* seconds */
    uint32_t attempts;        /* wrong answers so far */
    int64_t locked_until;     /* seconds; 0 when not locked */
    char lang[SN_LANG_LEN + 1];
} sn_otp;

/* SN_ENOTFOUND when the number has no code row. */
int sn_store_otp_get(sn_store *s, sn_number n, sn_otp *out, char *err, size_t errlen);
/* Insert or replace the number's row. */
int sn_store_otp_put(sn_store *s, const sn_otp *o, char *err, size_t errlen);
int sn_store_otp_delete(sn_store *s, sn_number n, char *err, size_t errlen);

/* Count one hit on a rate-limit bucket in the fixed window starting at
 * `window` (seconds); *count is the hits in that window, this one included.
 * Rows of earlier windows are replaced. */
int sn_store_rate_hit(sn_store *s, const char *bucket, int64_t window, uint32_t *count, char *err,
                      size_t errlen);

/* A subscriber's session: the token is kept as a hash; it is bound to the
 * number's tenure and its latest cancellation at sign-in. */
typedef struct {
    uint8_t token_hash[SN_SECRET_HASH_LEN];
    sn_number number;
    uint32_t tenure;
    sn_day cancel_day; /* the number's last_cancel_day at sign-in */
    int64_t created, expires;
    char lang[SN_LANG_LEN + 1];
} sn_session;

int sn_store_session_put(sn_store *s, const sn_session *ses, char *err, size_t errlen);
/* SN_ENOTFOUND when there is no such token. */
int sn_store_session_get(sn_store *s, const uint8_t hash[SN_SECRET_HASH_LEN], sn_session *out,
                         char *err, size_t errlen);
int sn_store_session_delete(sn_store *s, const uint8_t hash[SN_SECRET_HASH_LEN], char *err,
                            size_t errlen);
/* Delete sessions that expired before now, and OTP rows dead and unlocked
 * before now. */
int sn_store_subscriber_purge(sn_store *s, int64_t now, char *err, size_t errlen);

/* Every app's bindings on n, by app name then bound_at: fn gets the binding
 * and the app's name and display name ("" when it set none). */
int sn_store_number_bindings(sn_store *s, sn_number n,
                             int (*fn)(void *ctx, const sn_binding *b, const char *app,
                                       const char *display),
                             void *ctx, char *err, size_t errlen);

/* An app's display name (shown to subscribers); "" clears it. */
int sn_store_set_app_display(sn_store *s, uint32_t app, const char *display, char *err,
                             size_t errlen);
int sn_store_app_display(sn_store *s, uint32_t app, char display[SN_DISPLAY_NAME_MAX + 1],
                         char *err, size_t errlen);

typedef enum { SN_SCOPE_PREVIOUS = 1, SN_SCOPE_MINE = 2 } sn_request_scope;

/* A subscriber's unbind request to one app: one unbind_request notice per
 * binding in scope, tracked through the notice machinery. */
typedef struct {
    uint64_t id;
    sn_number number;
    uint32_t tenure; /* the requester's */
    uint32_t app;
    uint8_t scope; /* sn_request_scope */
    int64_t created, deadline;
    /* filled by list: */
    char app_name[SN_APP_NAME_MAX + 1];
    char display[SN_DISPLAY_NAME_MAX + 1];
    uint32_t notices, acknowledged;
    uint32_t outcomes[5]; /* per sn_outcome */
} sn_request;

/* Record r (r->id is set) and issue its notices: bindings of r->app on
 * r->number with tenure below r->tenure (previous) or equal to it (mine),
 * except those with an open unbind_request already; a pending delivery
 * (due at now_ms) for each when the app has a webhook. *issued may be 0:
 * the caller decides whether to keep the request then. */
int sn_store_add_request(sn_store *s, sn_request *r, int64_t now_ms, size_t *issued, char *err,
                         size_t errlen);
/* The requests of (n, tenure), newest first, with their notices counted. */
int sn_store_list_requests(sn_store *s, sn_number n, uint32_t tenure,
                           int (*fn)(void *ctx, const sn_request *r), void *ctx, char *err,
                           size_t errlen);

typedef enum {
    SN_COMPLAINT_HARASSMENT = 1,
    SN_COMPLAINT_CANNOT_REGISTER = 2,
    SN_COMPLAINT_TAKEOVER = 3,
    SN_COMPLAINT_OTHER = 4,
} sn_complaint_kind;

/* Who holds a complaint: it starts with the app (or the carrier when it
 * names none) and moves up one level each time its deadline passes. */
typedef enum {
    SN_LEVEL_APP = 0,
    SN_LEVEL_CARRIER = 1,
    SN_LEVEL_REGULATOR = 2,
} sn_complaint_level;

typedef struct {
    uint64_t id;
    sn_number number;
    uint32_t tenure;
    uint32_t app;           /* 0: none named */
    uint32_t carrier;       /* the number's carrier of record when filed */
    uint8_t kind;           /* sn_complaint_kind */
    uint8_t resolved_level; /* sn_complaint_level + 1 of whoever resolved it; 0 open */
    int64_t created, period, resolved_at;
    char text[SN_COMPLAINT_TEXT_MAX + 1];
    char resolution[SN_NOTE_MAX + 1];
    /* filled by list and get: */
    char app_name[SN_APP_NAME_MAX + 1];
    char display[SN_DISPLAY_NAME_MAX + 1];
    char carrier_name[SN_CARRIER_NAME_MAX + 1];
} sn_complaint;

/* Which complaints a list shows: a subscriber's (number and tenure), an
 * app's, those that reached a carrier, or all (admin) that reached
 * min_level; open_only leaves out resolved ones. */
typedef struct {
    sn_number number; /* with tenure: one subscriber's; 0: any */
    uint32_t tenure;
    uint32_t app;     /* 0: any */
    uint32_t carrier; /* 0: any; else only those that reached the carrier level */
    uint8_t min_level;
    uint8_t open_only;
    uint64_t after;
    uint32_t limit;
    int64_t now;
} sn_complaint_query;

/* Record c (c->id is set). */
int sn_store_add_complaint(sn_store *s, sn_complaint *c, char *err, size_t errlen);
int sn_store_list_complaints(sn_store *s, const sn_complaint_query *q,
                             int (*fn)(void *ctx, const sn_complaint *c), void *ctx, char *err,
                             size_t errlen);
/* SN_ENOTFOUND when there is no complaint id. */
int sn_store_get_complaint(sn_store *s, uint64_t id, sn_complaint *out, char *err, size_t errlen);
int sn_store_resolve_complaint(sn_store *s, uint64_t id, int level, const char *resolution,
                               int64_t at, char *err, size_t errlen);

#endif
