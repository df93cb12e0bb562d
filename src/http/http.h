/*
 * http.h - what the HTTP layer's files share: a request being answered (a
 * call), the route table's entries, and replies.
 *
 * The layer is thin. server.c runs the loops; router.c matches a route of
 * routes.c, authenticates the caller (one path: an API key, or a
 * subscriber's session token where the route takes one) and reads the
 * query, the {id} and the route's flat body (its form); a handler (h_*.c)
 * reads what else the body holds (body.c), calls one service function
 * (src/service/) and formats the answer (reply.c). A service function that
 * needs the store runs on the writer thread, handed over as a job (job.h);
 * the checks answer from the serving index on the loop thread itself.
 */
#ifndef SN_HTTP_H
#define SN_HTTP_H

#include "audit/audit.h"
#include "http/flatjson.h"
#include "http/head.h"
#include "http/query.h"
#include "http/server.h"
#include "core/verdict.h"
#include "service/service.h"
#include "store/keys.h"
#include "util/strbuf.h"

#include <h2o.h>
#include <string.h>

typedef struct sn_call sn_call;
typedef struct sn_http_job sn_http_job; /* job.h */

/* A route's handler runs on the loop thread (it reads the body, then
 * answers or hands a job to the writer); a route that reads nothing but
 * the caller, the query, the {id} and its form names its job's work
 * instead, which the router hands to the writer itself. A route that takes
 * a key or a session may name both: the handler serves keys, the work
 * sessions (the CAMARA check: the index for an app, the store for a
 * subscriber). */
typedef void (*sn_handler)(sn_call *c);
typedef int (*sn_work)(sn_http_job *j, sn_store *s);

/* How a route authenticates its caller. */
typedef enum {
    SN_AUTH_NONE = 0,       /* public */
    SN_AUTH_KEY = 1,        /* an API key with the route's role */
    SN_AUTH_SESSION = 2,    /* a subscriber's session token (judged by the service) */
    SN_AUTH_KEY_OR_SESSION, /* either (the CAMARA check: two- or three-legged) */
} sn_auth;

/* The flat JSON body a route reads (router.c, body.c): its properties, which
 * of them are true/false rather than strings, and whether it may be empty. */
typedef struct {
    const char *names[SN_FLATJSON_MAX_FIELDS]; /* NULL-terminated when fewer */
    uint8_t booleans;                          /* bit i: names[i] */
    uint8_t optional;
} sn_form;

/* What else a route asks of a request. */
#define SN_ROUTE_SELFSERVICE 1 /* subscriber self-service must be configured; small bodies */
#define SN_ROUTE_REPORT                                                                            \
    2 /* a read that may scan much (the dashboard's figures, the audit                             \
         export, usage): its job runs on the reports thread's own store                            \
         handle, never holding up the writer (job.h) */

typedef struct {
    const char *method;
    const char *path;  /* exact, or with one "{id}" segment */
    sn_handler handle; /* or: */
    sn_work work;
    uint8_t auth;             /* sn_auth */
    uint8_t role;             /* the key's role (sn_role) where a key is taken */
    uint8_t flags;            /* SN_ROUTE_* */
    const char *const *query; /* the query parameters it takes, NULL-terminated; NULL: none */
    const sn_form *form;      /* the flat body it reads; NULL: the handler reads it */
} sn_route;

extern const sn_route sn_routes[];
extern const size_t sn_nroutes;

#define SN_CLIENT_ADDR_MAX 64

/* Errors of the HTTP protocol itself, each with one status and one CAMARA
 * code; what the services return (SN_E*) maps onto them in reply.c. */
typedef enum {
    SN_HTTP_INVALID_ARGUMENT,
    SN_HTTP_OUT_OF_RANGE,
    SN_HTTP_UNAUTHENTICATED,
    SN_HTTP_PERMISSION_DENIED,
    SN_HTTP_IDENTIFIER_NOT_FOUND,
    SN_HTTP_NOT_FOUND,
    SN_HTTP_METHOD_NOT_ALLOWED,
    SN_HTTP_CONFLICT,
    SN_HTTP_PAYLOAD_TOO_LARGE,
    SN_HTTP_HEADERS_TOO_LARGE,
    SN_HTTP_UNSUPPORTED_MEDIA_TYPE,
    SN_HTTP_MISSING_IDENTIFIER,
    SN_HTTP_UNNECESSARY_IDENTIFIER,
    SN_HTTP_SERVICE_NOT_APPLICABLE,
    SN_HTTP_INTERNAL,
    SN_HTTP_UNAVAILABLE,
    SN_HTTP_TOO_MANY_REQUESTS,
} sn_http_error;

/* One request being answered; lives in the request's memory pool. */
struct sn_call {
    h2o_req_t *req;
    sn_service *svc;
    const sn_route *route;
    sn_caller who;                          /* the API key's (role NONE without one) */
    sn_check_limits limits;                 /* the key's own check limits (0: the server's) */
    int session;                            /* a session token was given: */
    uint8_t token_hash[SN_SECRET_HASH_LEN]; /* its hash */
    int oauth; /* an OAuth access token stood for the app's key (who, limits) */
    char oauth_client[SN_OAUTH_CLIENT_MAX + 1]; /* with oauth: the token's client */
    int oauth_subscriber; /* it is three-legged: it names the subscriber's number: */
    sn_number oauth_number;
    char addr[SN_CLIENT_ADDR_MAX];         /* the client's address, for per-address limits */
    h2o_iovec_t correlator;                /* a valid x-correlator, or {NULL, 0} */
    uint64_t id;                           /* the {id} of the path (a positive integer) */
    sn_query_param q[SN_QUERY_MAX_PARAMS]; /* the route's query parameters */
    size_t nq;
    sn_flat_field form[SN_FLATJSON_MAX_FIELDS]; /* the route's body, read */
    size_t nform;
    /* Set while a session route's token is not judged yet: a 4xx answer
     * (a bad body, query or id) waits for the judgment, so a dead session
     * gets its 401 before anything about the request is said. */
    void (*refuse)(sn_call *c, sn_http_error e, const char *msg);
    int64_t started_us; /* sn_monotonic_us() when the router took the request */
    /* What the audit trail records of the question (audit/audit.h): the
     * number and day asked and the verdict, set by the check handlers;
     * a batch's items (in the pool). */
    struct {
        int set; /* by sn_call_audit_check */
        int has_number;
        sn_number number;
        sn_day day;
        int has_verdict;
        int verdict; /* sn_verdict */
        sn_audit_item *items;
        uint32_t nitems;
        int written; /* the success answer's row went in with the write (sn_audit_write_in_tx) */
    } audit;
    /* An acknowledged write's answer held until its audit row is committed. */
    sn_loop_message audit_done;
    h2o_iovec_t held_body;
    int held_status;
};

/* A query parameter's value, or NULL when absent. */
static inline const char *sn_call_param(const sn_call *c, const char *name)
{
    for (size_t i = 0; i < c->nq; i++)
        if (c->q[i].present && strcmp(c->q[i].name, name) == 0)
            return c->q[i].value;
    return NULL;
}

/* A property of the route's body (value NULL when absent). */
static inline const sn_flat_field *sn_call_field(const sn_call *c, const char *name)
{
    static const sn_flat_field absent = {NULL, NULL, 0, 0};
    for (size_t i = 0; i < c->nform; i++)
        if (strcmp(c->form[i].name, name) == 0)
            return &c->form[i];
    return &absent;
}

/* Count n numbers checked by the caller's key against its limits
 * (keylimits.h): 1, or 0 after a 429 with Retry-After. A caller without a
 * key (a subscriber's session) is not counted. */
int sn_call_count_checks(sn_call *c, uint64_t n);

/* The paging parameters after (a cursor, default 0) and limit (1 to max,
 * default def): 1, or 0 after a 400 reply. */
int sn_call_paging(sn_call *c, uint64_t *after, uint32_t *limit, uint32_t def, uint32_t max);

#define SN_PAGE_DEFAULT 100 /* rows of a listing when the caller gives no limit */
#define SN_PAGE_MAX 1000    /* rows of a listing at most */

/* ---- replies (reply.c) ------------------------------------------------------- */

/* Limits of untrusted input. */
#define SN_HTTP_MAX_BODY (8u << 20)
#define SN_HTTP_MAX_HEADER_BYTES (16u << 10) /* names and values of all request headers */
#define SN_HTTP_MAX_JSON_DEPTH 32
#define SN_HTTP_MAX_ITEMS 10000
#define SN_HTTP_REQ_TIMEOUT_MS 10000
/* Bodies of the routes a caller without an API key may use are small (a
 * complaint's text is the largest, 2,000 bytes): none is read past this. */
#define SN_HTTP_MAX_PUBLIC_BODY (64u << 10)

/* The one way an answer is sent: status, content type, body (copied into
 * the request's pool), with the x-correlator echoed. */
void sn_reply(sn_call *c, int status, const char *content_type, const char *body, size_t len);

/* A JSON answer; a body built in b (failed: 500 instead). */
void sn_reply_json(sn_call *c, int status, const char *body, size_t len);
void sn_reply_buf(sn_call *c, int status, const sn_strbuf *b);

/* An error in the CAMARA shape; the message is printf-style. */
void sn_reply_error(sn_call *c, sn_http_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What a service returned (SN_E*) as the answer: the HTTP status and
 * CAMARA code of the code, with message. A failure of the store (or
 * memory) is logged with its message and answered 500 without it;
 * SN_EUNAVAILABLE is 503 with Retry-After. */
void sn_reply_status(sn_call *c, int code, const char *message);

/* The status and CAMARA code of an error (for entries of batch answers). */
int sn_http_error_status(sn_http_error e);
const char *sn_http_error_code(sn_http_error e);
sn_http_error sn_http_error_of(int code);

/* ---- the audit trail (audit_call.c) ------------------------------------------ */

/* Note what a check asked and answered (verdict -1: none) for the trail. */
void sn_call_audit_check(sn_call *c, int has_number, sn_number number, sn_day day, int verdict);

/* The trail's record of c answered with status (r->done unset). */
void sn_audit_of_call(const sn_call *c, int status, sn_audit_record *r);

/* The trail's record of a request of a route refused from its head alone
 * (conn.c: before routing, the caller unknown); nothing for a head that
 * names no route. */
void sn_audit_refused(const sn_head *h, int status, const char *correlator);

/* 1 when c's answer waits for its audit row: an acknowledged write (a
 * 2xx answer to a route other than GET and the checks). */
int sn_audit_held(const sn_call *c, int status);

/* ---- metrics (h_metrics.c) ----------------------------------------------------- */

/* Count an answer: its route, status and latency (sn_reply calls it). */
void sn_metrics_request(sn_call *c, int status);

/* ---- handlers (h_*.c), listed in routes.c ------------------------------------ */

/* Serve a file of the subscriber portal for GET or HEAD of path (h_portal.c):
 * 1, or 0 when path is not one. */
int sn_portal_serve(sn_call *c, h2o_iovec_t path);

void sn_h_healthz(sn_call *c);
void sn_h_openapi(sn_call *c);
void sn_h_metrics(sn_call *c);
void sn_h_camara(sn_call *c);
void sn_h_camara_v03(sn_call *c);
void sn_h_check(sn_call *c);
void sn_h_check_batch(sn_call *c);
void sn_h_check_range(sn_call *c);
void sn_h_receipt_keys(sn_call *c);

/* ---- receipts (h_receipts.c) ----------------------------------------------- */

#define SN_RECEIPTS_OFF "receipts are off: serve runs without the deployment secret (--key)"

/* Sign the receipt of this call's check (api "check", "camara-v0.2" or
 * "camara-v0.3"; the number as asked by question, e.g. "number" and its
 * E.164 text; the day asked; the verdict answered) into out (cap bytes,
 * NUL-terminated; SN_RECEIPT_MAX is enough). SN_OK, SN_EUNAVAILABLE
 * (receipts are off) or SN_ELIMIT. */
int sn_call_receipt(const sn_call *c, const char *api, const char *question, const char *asked,
                    sn_day day, sn_verdict v, char *out, size_t cap, size_t *len);
void sn_h_events(sn_call *c);
void sn_h_carriers_add(sn_call *c);
void sn_h_keys_create(sn_call *c);
void sn_h_bindings_put(sn_call *c);
void sn_h_bindings_delete(sn_call *c);
void sn_h_bindings_get(sn_call *c);
void sn_h_notices_list(sn_call *c);
void sn_h_notice_ack(sn_call *c);
void sn_h_disconnections(sn_call *c);
void sn_h_webhook_put(sn_call *c);
void sn_h_subscription_put(sn_call *c);
void sn_h_deliveries(sn_call *c);
void sn_h_profile_put(sn_call *c);
void sn_h_signin_code(sn_call *c);
void sn_h_signin_start(sn_call *c);
void sn_h_sub_unbind(sn_call *c);
/* sn_call.refuse of session routes: judge the session, then answer e. */
void sn_h_session_refuse(sn_call *c, sn_http_error e, const char *msg);
void sn_h_complaint_file(sn_call *c);
void sn_h_complaints_desk(sn_call *c);
/* h_dashboard.c: the dashboard's figures */
void sn_h_stats_events(sn_call *c);
void sn_h_stats_notices(sn_call *c);
int sn_w_stats_numbers(sn_http_job *j, sn_store *s);
int sn_w_stats_complaints(sn_http_job *j, sn_store *s);
/* h_demand.c: coverage demand */
int sn_w_sub_app_request(sn_http_job *j, sn_store *s);
void sn_h_stats_demand(sn_call *c);
void sn_h_complaint_resolve(sn_call *c);

/* Works the router hands to the writer itself (sn_route.work). */
int sn_w_camara_session(sn_http_job *j, sn_store *s);
int sn_w_camara_v03_session(sn_http_job *j, sn_store *s);
extern const sn_form sn_camara_form;
int sn_w_carriers_list(sn_http_job *j, sn_store *s);
int sn_w_keys_list(sn_http_job *j, sn_store *s);
int sn_w_keys_revoke(sn_http_job *j, sn_store *s);
int sn_w_notice_get(sn_http_job *j, sn_store *s);
int sn_w_webhook_get(sn_http_job *j, sn_store *s);
int sn_w_webhook_delete(sn_http_job *j, sn_store *s);
int sn_w_subscription(sn_http_job *j, sn_store *s);
int sn_w_profile(sn_http_job *j, sn_store *s);
int sn_w_admin_apps(sn_http_job *j, sn_store *s);
int sn_w_session_get(sn_http_job *j, sn_store *s);
int sn_w_session_end(sn_http_job *j, sn_store *s);
int sn_w_sub_bindings(sn_http_job *j, sn_store *s);
int sn_w_sub_requests(sn_http_job *j, sn_store *s);
void sn_h_sub_checks(sn_call *c);
int sn_w_sub_report(sn_http_job *j, sn_store *s);
int sn_w_sub_checklist(sn_http_job *j, sn_store *s);
int sn_w_complaints_mine(sn_http_job *j, sn_store *s);
int sn_w_admin_audit(sn_http_job *j, sn_store *s); /* h_audit.c */
int sn_w_usage(sn_http_job *j, sn_store *s);

#endif
