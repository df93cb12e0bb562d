/*
 * subscriber.h - the subscriber side of the API (h_subscriber.c) and the
 * complaint desks of apps, carriers and the regulator (h_complaints.c):
 * their settings and the job they run on the writer thread.
 *
 * A subscriber job is a tenant job (tenant.h) with more around it: the
 * caller's client address (for rate limits), the caller's key, and, on
 * routes that need one, the subscriber's session. The loop thread checks
 * that a session token is present and well-formed (401 before the body is
 * read); the writer thread looks it up and judges it against the number's
 * state (policy.h) before the work runs, in the same transaction.
 *
 * Answers that must be kept even though they are errors (a wrong code
 * counts an attempt) are written with sn_sub_committed_error: the error
 * body is the answer and the transaction commits.
 */
#ifndef SN_HTTP_SUBSCRIBER_H
#define SN_HTTP_SUBSCRIBER_H

#include "http/tenant.h"
#include "sms/gateway.h"
#include "core/complaint.h"
#include "core/subscriber.h"
#include "store/keys.h"

struct sn_subscribers {
    sn_subscriber_options opt;
    sn_sms_options sms;
    int64_t purged_at; /* writer thread only: last purge of dead codes and sessions */
};

#define SN_CLIENT_ADDR_MAX 64
/* Bodies of these routes are small (a complaint's text is the largest, 2,000
 * bytes): most are public, so none is parsed past this. */
#define SN_SUB_BODY_MAX (64u << 10)

typedef struct sn_sub_job sn_sub_job;

struct sn_sub_job {
    sn_tenant_job t; /* first: the tenant machinery runs this job */
    int (*work)(sn_sub_job *j, sn_store *s);
    int need_session;
    uint8_t token_hash[SN_SECRET_HASH_LEN];
    sn_session ses;     /* the caller's, once judged */
    sn_number_state st; /* of the session's number, at the judgement */
    char addr[SN_CLIENT_ADDR_MAX];
    uint8_t role;     /* of the caller's key (SN_ROLE_NONE for subscribers) */
    uint32_t carrier; /* carrier keys: the carrier */
    /* the CAMARA check with a session (h_subscriber.c) */
    int camara_status; /* 0, or the 400/422 found in the body */
    sn_http_error camara_error;
    char camara_message[2 * SN_ERRMSG_MAX];
    sn_day camara_day;
};

/* A job for c: parses the query against names (NULL-terminated), the body
 * when with_body (1: required, 2: optional), the {id} when with_id, and
 * the session token when need_session. NULL when a reply was already sent (400, 401, 404). */
sn_sub_job *sn_sub_job_new(sn_call *c, int (*work)(sn_sub_job *, sn_store *),
                           const char *const *query_names, int with_body, int with_id,
                           int need_session);

/* Hand the job to the writer thread. */
void sn_sub_submit(sn_call *c, sn_sub_job *j);

/* Answer with an error that is kept: the transaction commits. Returns SN_OK
 * so work can `return` it. */
int sn_sub_committed_error(sn_sub_job *j, sn_http_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A recorded 500 after a store failure (logged). */
int sn_sub_store_failed(sn_sub_job *j, const char *what, const char *err);

/* Count a hit on bucket "<kind>:<key>" in this hour's window; 1 when over
 * limit (a 429 is recorded), 0 when allowed, -1 on a store failure (a 500
 * is recorded). */
int sn_sub_rate_limited(sn_sub_job *j, sn_store *s, const char *kind, const char *key,
                        uint32_t limit, const char *what);

/* The JSON of one complaint; with_number adds the number (app, carrier
 * and admin views). */
void sn_sub_complaint_json(sn_strbuf *b, const sn_complaint *c, int with_number, int64_t now);

#endif
