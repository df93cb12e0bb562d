/*
 * notices.h - notices to apps: issued in the ledger's transaction for a
 * carrier event (core/notice.h says which), or for a subscriber's unbind
 * request; read by the pull feed and acknowledged by the app. A notice of
 * an app with a webhook gets a pending delivery (deliveries.h) when issued.
 * Notice ids ascend in issue order: the pull feed's cursor.
 */
#ifndef SN_STORE_NOTICES_H
#define SN_STORE_NOTICES_H

#include "core/limits.h"
#include "core/notice.h"
#include "core/subscriber.h"
#include "crypto/secret.h"
#include "store/store.h"

typedef struct sn_notice {
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

#define SN_REQUESTS_LISTED 500 /* a subscriber's requests listed, newest first */

typedef int (*sn_notice_fn)(void *ctx, const sn_notice *n);
typedef int (*sn_request_fn)(void *ctx, const sn_request *r);

/* Notices not acknowledged: within their deadline (or without one), and
 * past it, at now (seconds) (for the metrics; reads the whole table). */
int sn_store_notice_counts(sn_store *s, int64_t now, uint64_t *open, uint64_t *overdue, char *err,
                           size_t errlen);

/* Issue what spec asks for; *issued counts the notices. */
int sn_store_issue_notices(sn_store *s, const sn_notice_spec *spec, size_t *issued, char *err,
                           size_t errlen);

/* Open number_cancelled binding notices of n whose deadline is after now:
 * how many apps hold them and the latest deadline. */
int sn_store_open_cancellations(sn_store *s, sn_number n, int64_t now, uint32_t *apps,
                                int64_t *until, char *err, size_t errlen);

/* Notices matching q in id order. */
int sn_store_list_notices(sn_store *s, const sn_notice_query *q, sn_notice_fn fn, void *ctx,
                          char *err, size_t errlen);

/* SN_ENOTFOUND when there is no notice id. */
int sn_store_get_notice(sn_store *s, uint64_t id, sn_notice *out, char *err, size_t errlen);

/* Record an acknowledgement (the caller checked it is allowed). */
int sn_store_ack_notice(sn_store *s, uint64_t id, int outcome, const char *note, int64_t at,
                        char *err, size_t errlen);

/* Record r (r->id is set) and issue its notices: bindings of r->app on
 * r->number with tenure below r->tenure (previous) or equal to it (mine),
 * except those with an open unbind_request already; a pending delivery
 * (due at now_ms) for each when the app has a webhook. *issued may be 0:
 * the caller decides whether to keep the request then. */
int sn_store_add_request(sn_store *s, sn_request *r, int64_t now_ms, size_t *issued, char *err,
                         size_t errlen);

/* The requests of (n, tenure), newest first (at most SN_REQUESTS_LISTED),
 * with their notices counted. */
int sn_store_list_requests(sn_store *s, sn_number n, uint32_t tenure, sn_request_fn fn, void *ctx,
                           char *err, size_t errlen);

#endif
