/*
 * http.h - what the HTTP layer's files share: the service state, one call
 * (a request being answered), the route table, replies and errors.
 *
 * The layer is thin: server.c accepts and routes, handlers in h_*.c parse a
 * body, ask the core or the index, and reply; anything that writes goes to
 * the writer thread (writer.h), the only owner of a writable store handle.
 */
#ifndef SN_HTTP_H
#define SN_HTTP_H

#include "auth/apikey.h"
#include "crypto/secret.h"
#include "index/numindex.h"
#include "util/strbuf.h"
#include "store/keys.h"

#include <h2o.h>
#include <stdarg.h>

typedef struct sn_writer sn_writer;
typedef struct sn_deliverer sn_deliverer;
typedef struct sn_subscribers sn_subscribers;
typedef struct sn_follower sn_follower;

/* Everything handlers need, shared read-mostly by every loop thread. */
typedef struct {
    sn_rules rules;
    const sn_secret *secret; /* for id6 in carrier events; NULL when the store has none */
    sn_numindex *index;
    sn_keyring *keys;
    sn_writer *writer;
    sn_deliverer *deliverer;   /* webhook deliveries; woken after commits that issue notices */
    int64_t notice_deadline_s; /* a notice's deadline runs this long from its issue */
    const char *openapi;
    size_t openapi_len;
    sn_subscribers *subscribers; /* subscriber self-service settings and SMS (subscriber.h) */
    sn_follower *follower;       /* other nodes' changes (follow/follower.h); NULL on SQLite */
} sn_service;

/* One request being answered. Lives in the request's memory pool. */
typedef struct {
    h2o_req_t *req;
    sn_service *svc;
    sn_api_key key;         /* the caller's key (role NONE on public routes) */
    h2o_iovec_t correlator; /* valid x-correlator or {NULL, 0} */
    const char *param;      /* the {id} of a path, when the route has one */
    size_t param_len;
} sn_call;

typedef void (*sn_handler)(sn_call *c);

typedef struct {
    const char *method;
    const char *path; /* exact, or ending in "/{id}" */
    sn_handler handle;
    uint8_t role;     /* sn_role required; SN_ROLE_NONE = public */
} sn_route;

extern const sn_route sn_routes[];
extern const size_t sn_nroutes;

/* API errors: each maps to one HTTP status and one CAMARA code (reply.c). */
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
    SN_HTTP_INTERNAL,
    SN_HTTP_UNAVAILABLE,
    SN_HTTP_TOO_MANY_REQUESTS,
} sn_http_error;

/* Limits of untrusted input. */
#define SN_HTTP_MAX_BODY (8u << 20)
#define SN_HTTP_MAX_HEADER_BYTES (16u << 10) /* names and values of all request headers */
#define SN_HTTP_MAX_JSON_DEPTH 32
#define SN_HTTP_MAX_ITEMS 10000
#define SN_HTTP_REQ_TIMEOUT_MS 10000
#define SN_HTTP_QUERY_VALUE_MAX 512

/* Reply with a JSON body (copied into the request's pool). */
void sn_reply_json(sn_call *c, int status, const char *body, size_t len);

/* Reply with the CAMARA error shape; the message is printf-style. */
void sn_reply_error(sn_call *c, sn_http_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Status and code of an error, for bodies built elsewhere (batch entries). */
int sn_http_error_status(sn_http_error e);
const char *sn_http_error_code(sn_http_error e);


/* Handlers (h_*.c). */
void sn_h_healthz(sn_call *c);
void sn_h_openapi(sn_call *c);
void sn_h_camara_check(sn_call *c);
void sn_h_check(sn_call *c);
void sn_h_check_batch(sn_call *c);
void sn_h_events(sn_call *c);
void sn_h_carriers_add(sn_call *c);
void sn_h_carriers_list(sn_call *c);
void sn_h_keys_create(sn_call *c);
void sn_h_keys_list(sn_call *c);
void sn_h_keys_revoke(sn_call *c);
void sn_h_bindings_put(sn_call *c);
void sn_h_bindings_delete(sn_call *c);
void sn_h_bindings_get(sn_call *c);
void sn_h_notices_list(sn_call *c);
void sn_h_notice_get(sn_call *c);
void sn_h_notice_ack(sn_call *c);
void sn_h_webhook_put(sn_call *c);
void sn_h_webhook_get(sn_call *c);
void sn_h_webhook_delete(sn_call *c);
void sn_h_subscription_put(sn_call *c);
void sn_h_subscription_get(sn_call *c);
void sn_h_deliveries(sn_call *c);
void sn_h_disconnections(sn_call *c);
void sn_h_admin_notices(sn_call *c);
void sn_h_admin_apps(sn_call *c);
/* subscribers (h_subscriber.c, h_complaints.c) and the web portal (h_portal.c) */
void sn_h_camara_entry(sn_call *c);
void sn_h_sub_otp(sn_call *c);
void sn_h_sub_session_create(sn_call *c);
void sn_h_sub_session_get(sn_call *c);
void sn_h_sub_session_delete(sn_call *c);
void sn_h_sub_bindings(sn_call *c);
void sn_h_sub_unbind(sn_call *c);
void sn_h_sub_requests(sn_call *c);
void sn_h_sub_complaint_add(sn_call *c);
void sn_h_sub_complaints(sn_call *c);
void sn_h_sub_report(sn_call *c);
void sn_h_sub_checklist(sn_call *c);
void sn_h_profile_put(sn_call *c);
void sn_h_profile_get(sn_call *c);
void sn_h_complaints_list(sn_call *c);
void sn_h_complaint_resolve(sn_call *c);
/* Serve a file of the portal for GET/HEAD of its path; 0 when path is not one. */
int sn_portal_serve(sn_call *c, h2o_iovec_t path);

#endif
