/*
 * router.c - from a request to its handler: the x-correlator and header
 * limits, the route (exact, or with one {id} segment), the one
 * authentication path (an API key with the route's role, or a subscriber's
 * session token where the route takes one), the content type, the query
 * and the {id}; every 404 and 405 is ours. Paths that are no route serve
 * the subscriber portal's files (h_portal.c). For a request with a body,
 * the same judgement of the head (correlator, header size, credential) is
 * made first, before the body is read (sn_router_admit_head, called by
 * conn.c), so a request that would be refused is refused without it. Runs on the loop threads;
 * reads only what the service shares read-only (the keyring locks itself).
 */
#include "http/router.h"

#include "http/routename.h"

#include "http/body.h"
#include "http/client_ip.h"
#include "http/job.h"
#include "http/server.h"

#include "core/errors.h"
#include "crypto/tokens.h"
#include "util/clock.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The bearer credential of an Authorization value: {NULL, 0} without the
 * header, {"", 0} when it is not a bearer. */
static h2o_iovec_t bearer_of(h2o_iovec_t v)
{
    if (v.base == NULL)
        return h2o_iovec_init(NULL, 0);
    if (v.len < 8 || strncasecmp(v.base, "Bearer ", 7) != 0)
        return h2o_iovec_init("", 0);
    return h2o_iovec_init(v.base + 7, v.len - 7);
}

static h2o_iovec_t bearer(const sn_call *c)
{
    ssize_t i = h2o_find_header(&c->req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    return bearer_of(i == -1 ? h2o_iovec_init(NULL, 0) : c->req->headers.entries[i].value);
}

/* Who the credential is, for a route: what authenticate() decides, from
 * the head alone (the router's, and sn_router_admit_head's before the body
 * is read). 1 with *k (a key) or *session set, or 0 with the error. */
typedef struct {
    sn_api_key k;
    int session;
    int oauth;          /* an access token, standing for k (its client's app's key) */
    sn_oauth_token tok; /* what it says */
    sn_http_error err;
    char msg[SN_ERRMSG_MAX];
} auth_result;

static int refused(auth_result *a, sn_http_error e, const char *msg)
{
    a->err = e;
    snprintf(a->msg, sizeof(a->msg), "%s", msg);
    return 0;
}

/* The scope an access token needs on rt (oauth.h), 0 where tokens are not
 * taken: the app routes under /number-recycling/ (CAMARA) and /v1/check
 * (the native checks); every other route needs an API key. */
static unsigned token_scope(const sn_route *rt)
{
    if (rt->role != SN_ROLE_APP)
        return 0;
    if (strncmp(rt->path, "/number-recycling/", 18) == 0)
        return SN_OAUTH_SCOPE_CAMARA;
    if (strcmp(rt->path, "/v1/check") == 0 || strncmp(rt->path, "/v1/check/", 10) == 0)
        return SN_OAUTH_SCOPE_NATIVE;
    return 0;
}

/* The admin client's token (--oauth-admin-client, scope secondnum:admin)
 * on an admin read: it acts as an admin key of no id (nothing it does can
 * write, so nothing is attributed to a key). */
static int admin_token(auth_result *a)
{
    memset(&a->k, 0, sizeof(a->k));
    a->k.role = SN_ROLE_ADMIN;
    snprintf(a->k.name, sizeof(a->k.name), "oauth-admin");
    a->oauth = 1;
    return 1;
}

/* An OAuth access token: valid (else 401), then taken on this route, with
 * its scope, from a client mapped to an app that has a live key (else
 * 403). The token then acts as that key (its id, its limits). */
static int judge_token(const sn_service *svc, const sn_route *rt, h2o_iovec_t token, auth_result *a)
{
    char app[SN_APP_NAME_MAX + 1];
    unsigned need = token_scope(rt);
    if (sn_oauth_verify(svc->oauth, token.base, token.len, sn_wall_sec(), &a->tok, a->msg,
                        sizeof(a->msg)) != SN_OK) {
        a->err = SN_HTTP_UNAUTHENTICATED;
        return 0;
    }
    if (rt->role == SN_ROLE_ADMIN && strcmp(rt->method, "GET") == 0 &&
        sn_oauth_is_admin(svc->oauth, &a->tok))
        return admin_token(a);
    if (need == 0)
        return refused(a, SN_HTTP_PERMISSION_DENIED,
                       "access tokens are taken on the check routes and, from the admin "
                       "client, on the admin reads only: use an API key");
    if ((a->tok.scopes & need) == 0)
        return refused(a, SN_HTTP_PERMISSION_DENIED,
                       need == SN_OAUTH_SCOPE_CAMARA
                           ? "the access token lacks the scope " SN_OAUTH_SCOPE_CAMARA_NAME
                           : "the access token lacks the scope " SN_OAUTH_SCOPE_NATIVE_NAME);
    if (a->tok.three_legged && need != SN_OAUTH_SCOPE_CAMARA)
        return refused(a, SN_HTTP_PERMISSION_DENIED,
                       "a subscriber's (three-legged) access token is taken on the CAMARA "
                       "check only");
    if (a->tok.client[0] == '\0' || svc->oauth_clients == NULL ||
        !sn_oauth_clients_find(svc->oauth_clients, a->tok.client, app))
        return refused(a, SN_HTTP_PERMISSION_DENIED,
                       "the access token's client acts for no app here");
    if (!sn_keyring_find_app(svc->keys, app, &a->k))
        return refused(a, SN_HTTP_PERMISSION_DENIED,
                       "the app of the access token's client has no live API key");
    a->oauth = 1;
    return 1;
}

static int judge_auth(const sn_service *svc, const sn_route *rt, h2o_iovec_t token, auth_result *a)
{
    a->session = 0;
    a->oauth = 0;
    if (token.base == NULL) {
        a->err = SN_HTTP_UNAUTHENTICATED;
        snprintf(a->msg, sizeof(a->msg), "%s",
                 rt->auth == SN_AUTH_SESSION
                     ? "sign in first: missing Authorization: Bearer session token"
                     : "missing Authorization: Bearer API key");
        return 0;
    }
    if (svc->oauth != NULL && rt->auth != SN_AUTH_SESSION &&
        sn_oauth_token_shaped(token.base, token.len))
        return judge_token(svc, rt, token, a);
    if (rt->auth == SN_AUTH_SESSION ||
        (rt->auth == SN_AUTH_KEY_OR_SESSION && sn_session_token_shaped(token.base, token.len))) {
        if (svc->subscribers == NULL || svc->secret == NULL) {
            a->err = SN_HTTP_UNAVAILABLE;
            snprintf(a->msg, sizeof(a->msg), "subscriber self-service is not configured");
            return 0;
        }
        if (!sn_session_token_shaped(token.base, token.len)) {
            a->err = SN_HTTP_UNAUTHENTICATED;
            snprintf(a->msg, sizeof(a->msg), "not a session token: sign in again");
            return 0;
        }
        a->session = 1;
        return 1;
    }
    if (token.len == 0 || !sn_keyring_find(svc->keys, token.base, token.len, &a->k)) {
        a->err = SN_HTTP_UNAUTHENTICATED;
        snprintf(a->msg, sizeof(a->msg),
                 "Request not authenticated due to missing, invalid, or revoked credentials");
        return 0;
    }
    if (a->k.role != rt->role) {
        a->err = SN_HTTP_PERMISSION_DENIED;
        snprintf(a->msg, sizeof(a->msg), "this operation needs a key with the %s role",
                 sn_role_name(rt->role));
        return 0;
    }
    return 1;
}

/* Sessions exist only where self-service is configured. */
static int selfservice_on(sn_call *c)
{
    if (c->svc->subscribers != NULL && c->svc->secret != NULL)
        return 1;
    sn_reply_error(c, SN_HTTP_UNAVAILABLE, "subscriber self-service is not configured");
    return 0;
}

/* The one authentication path; 0 after a reply (401, 403, 503). */
static int authenticate(sn_call *c)
{
    const sn_route *rt = c->route;
    h2o_iovec_t token = bearer(c);
    auth_result a;
    if (rt->auth == SN_AUTH_NONE)
        return 1;
    if (!judge_auth(c->svc, rt, token, &a)) {
        sn_reply_error(c, a.err, "%s", a.msg);
        return 0;
    }
    if (a.session) {
        sn_session_token_hash(token.base, token.len, c->token_hash);
        c->session = 1;
        return 1;
    }
    c->who.role = a.k.role;
    c->who.key = a.k.id;
    c->who.carrier = a.k.carrier;
    c->limits = (sn_check_limits){a.k.rate_per_s, a.k.rate_per_day};
    c->oauth = a.oauth;
    if (a.oauth)
        sn_text_copy(c->oauth_client, sizeof(c->oauth_client), a.tok.client);
    c->oauth_subscriber = a.oauth && a.tok.three_legged;
    c->oauth_number = a.tok.number;
    if (a.k.role == SN_ROLE_APP)
        sn_text_copy(c->who.app, sizeof(c->who.app), a.k.name);
    return 1;
}

/* The client's address (client_ip.h): the entry the trusted proxies
 * appended to their header when one is configured, else the peer's. */
static void client_addr(sn_call *c)
{
    const sn_subscriber_options *opt = &c->svc->subscribers->opt;
    const char *name = opt->client_ip_header;
    sn_header_line lines[SN_CLIENT_IP_LINES_MAX];
    size_t n = 0;
    struct sockaddr_storage ss;
    if (name[0] != '\0') {
        for (ssize_t i = -1;
             (i = h2o_find_header_by_str(&c->req->headers, name, strlen(name), i)) != -1;) {
            if (n == SN_CLIENT_IP_LINES_MAX) /* keep the last ones: the proxies' are there */
                memmove(lines, lines + 1, --n * sizeof(lines[0]));
            lines[n++] = (sn_header_line){c->req->headers.entries[i].value.base,
                                          c->req->headers.entries[i].value.len};
        }
        if (sn_client_ip_forwarded(lines, n, opt->client_ip_hops, c->addr, sizeof(c->addr)))
            return;
    }
    memset(&ss, 0, sizeof(ss));
    if (c->req->conn->callbacks->get_peername == NULL ||
        c->req->conn->callbacks->get_peername(c->req->conn, (struct sockaddr *)&ss) == 0 ||
        !sn_client_ip_peer((struct sockaddr *)&ss, c->addr, sizeof(c->addr)))
        snprintf(c->addr, sizeof(c->addr), "unknown");
}

/* A body, when present, must say it is JSON. */
static int content_type_ok(sn_call *c)
{
    ssize_t i = h2o_find_header(&c->req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (c->req->entity.base == NULL || c->req->entity.len == 0)
        return 1;
    if (i == -1) {
        sn_reply_error(c, SN_HTTP_UNSUPPORTED_MEDIA_TYPE,
                       "the request body must be application/json: send Content-Type: "
                       "application/json");
        return 0;
    }
    h2o_iovec_t v = c->req->headers.entries[i].value;
    static const char json[] = "application/json";
    size_t n = sizeof(json) - 1;
    if (v.len >= n && strncasecmp(v.base, json, n) == 0 && (v.len == n || v.base[n] == ';'))
        return 1;
    sn_reply_error(c, SN_HTTP_UNSUPPORTED_MEDIA_TYPE, "the request body must be application/json");
    return 0;
}

/* The {id} of the path: a positive integer, else 404. */
static int id_of(sn_call *c, const char *param, size_t len)
{
    char text[24], *end;
    if (len == 0 || len >= sizeof(text))
        goto bad;
    memcpy(text, param, len);
    text[len] = '\0';
    if (text[0] < '0' || text[0] > '9')
        goto bad;
    c->id = strtoull(text, &end, 10);
    if (*end == '\0' && c->id != 0)
        return 1;
bad:
    sn_reply_error(c, SN_HTTP_NOT_FOUND, "no such resource: id '%.*s'", (int)(len > 24 ? 24 : len),
                   param);
    return 0;
}

/* The route's flat body into c->form; 0 after a 400. */
static int read_form(sn_call *c, const sn_form *form)
{
    for (c->nform = 0; c->nform < SN_FLATJSON_MAX_FIELDS && form->names[c->nform] != NULL;
         c->nform++)
        c->form[c->nform] =
            (sn_flat_field){form->names[c->nform], NULL, 0, (form->booleans >> c->nform) & 1};
    return sn_body_fields(c, c->form, c->nform, form->optional);
}

/* Everything the route asks of a request before its handler runs. */
static int admit(sn_call *c, const char *param, size_t plen)
{
    const sn_route *rt = c->route;
    char why[SN_ERRMSG_MAX];
    if (!authenticate(c))
        return 0;
    if (c->session && rt->auth == SN_AUTH_SESSION)
        c->refuse = sn_h_session_refuse;
    if (((rt->flags & SN_ROUTE_SELFSERVICE) && !selfservice_on(c)) || !content_type_ok(c))
        return 0;
    if (rt->flags & SN_ROUTE_SELFSERVICE) {
        if (c->req->entity.len > SN_HTTP_MAX_PUBLIC_BODY) {
            sn_reply_error(c, SN_HTTP_PAYLOAD_TOO_LARGE, "the request body is larger than %u bytes",
                           SN_HTTP_MAX_PUBLIC_BODY);
            return 0;
        }
        client_addr(c);
    }
    for (c->nq = 0; rt->query != NULL && rt->query[c->nq] != NULL && c->nq < SN_QUERY_MAX_PARAMS;
         c->nq++)
        c->q[c->nq].name = rt->query[c->nq];
    if (sn_query_parse(c->req, c->q, c->nq, why, sizeof(why)) != SN_OK) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "%s", why);
        return 0;
    }
    if (param != NULL && !id_of(c, param, plen))
        return 0;
    return rt->form == NULL || read_form(c, rt->form);
}

static void method_not_allowed(sn_call *c, h2o_iovec_t path)
{
    char allow[64] = "";
    const char *param;
    size_t plen;
    for (size_t i = 0; i < sn_nroutes; i++) {
        if (!sn_route_matches(sn_routes[i].path, path, &param, &plen))
            continue;
        if (allow[0] != '\0')
            strncat(allow, ", ", sizeof(allow) - strlen(allow) - 1);
        strncat(allow, sn_routes[i].method, sizeof(allow) - strlen(allow) - 1);
        if (strcmp(sn_routes[i].method, "GET") == 0)
            strncat(allow, ", HEAD", sizeof(allow) - strlen(allow) - 1);
    }
    h2o_add_header(&c->req->pool, &c->req->res.headers, H2O_TOKEN_ALLOW, NULL,
                   h2o_strdup(&c->req->pool, allow, SIZE_MAX).base, strlen(allow));
    sn_reply_error(c, SN_HTTP_METHOD_NOT_ALLOWED, "use %s on this path", allow);
}

/* A route's method; HEAD is answered as GET (h2o sends no body). */
static int method_matches(const h2o_req_t *req, const char *method)
{
    if (h2o_memis(req->method.base, req->method.len, method, strlen(method)))
        return 1;
    return strcmp(method, "GET") == 0 &&
           h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
}

static const char correlator_rule[] = "x-correlator must match ^[a-zA-Z0-9-_:;./<>{}]{0,256}$";

/* The request's own checks: the x-correlator and the size of its headers. */
static int headers_ok(sn_call *c)
{
    h2o_req_t *req = c->req;
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-correlator"), -1);
    if (i != -1) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (!sn_correlator_valid(v)) {
            sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "%s", correlator_rule);
            return 0;
        }
        c->correlator = v;
    }
    size_t header_bytes = 0;
    for (size_t h = 0; h < req->headers.size; h++)
        header_bytes += req->headers.entries[h].name->len + req->headers.entries[h].value.len;
    if (header_bytes > SN_HTTP_MAX_HEADER_BYTES) {
        sn_reply_error(c, SN_HTTP_HEADERS_TOO_LARGE, "request headers over %u bytes",
                       SN_HTTP_MAX_HEADER_BYTES);
        return 0;
    }
    return 1;
}

/* ---- from the head alone ------------------------------------------------ */

/* The route a head asks for (HEAD as GET), or NULL. */
static const sn_route *route_of_head(const sn_head *h)
{
    h2o_mem_pool_t pool;
    size_t query_at;
    size_t *norm_indexes = NULL;
    const sn_route *found = NULL;
    h2o_mem_init_pool(&pool);
    /* as h2o normalizes req->path_normalized */
    h2o_iovec_t path =
        h2o_url_normalize_path(&pool, h->target.base, h->target.len, &query_at, &norm_indexes);
    for (size_t r = 0; r < sn_nroutes && found == NULL; r++) {
        const char *param;
        size_t plen;
        const char *m = sn_routes[r].method;
        if (sn_route_matches(sn_routes[r].path, path, &param, &plen) &&
            (h2o_memis(h->method.base, h->method.len, m, strlen(m)) ||
             (strcmp(m, "GET") == 0 &&
              h2o_memis(h->method.base, h->method.len, H2O_STRLIT("HEAD")))))
            found = &sn_routes[r];
    }
    h2o_mem_clear_pool(&pool);
    return found;
}

/* The bytes the router counts against SN_HTTP_MAX_HEADER_BYTES: every
 * field's name and value but those h2o keeps out of req->headers (Host,
 * Content-Length, Transfer-Encoding, Expect, Upgrade). */
static size_t head_header_bytes(const sn_head *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->nfields; i++) {
        h2o_iovec_t name = h->fields[i].name;
        char lower[32];
        const h2o_token_t *token = NULL;
        if (name.len < sizeof(lower)) {
            for (size_t j = 0; j < name.len; j++)
                lower[j] = h2o_tolower(name.base[j]);
            token = h2o_lookup_token(lower, name.len);
        }
        if (token == NULL || !token->is_init_header_special)
            n += name.len + h->fields[i].value.len;
    }
    return n;
}

static int head_refused(sn_head_verdict *v, sn_http_error e, const char *msg)
{
    v->status = sn_http_error_status(e);
    v->code = sn_http_error_code(e);
    snprintf(v->message, sizeof(v->message), "%s", msg);
    return 0;
}

int sn_router_admit_head(void *ctx, const sn_head *h, sn_head_verdict *v)
{
    const sn_service *svc = ctx;
    h2o_iovec_t corr = sn_head_get(h, "x-correlator");
    char msg[64];
    auth_result a;
    v->max_body = SN_HTTP_MAX_PUBLIC_BODY; /* what a caller without a key may send */
    v->anonymous = 1;
    if (h->content_length != SIZE_MAX && h->content_length <= SN_HTTP_MAX_PUBLIC_BODY &&
        v->body_here == h->content_length) {
        /* a body any caller may send, all here: judging the head now would
         * spare nothing, and the router judges it all (it was 3% of a
         * CAMARA check's time, done twice) */
        v->anonymous = 0;
        return 1;
    }
    if (corr.base != NULL && !sn_correlator_valid(corr))
        return head_refused(v, SN_HTTP_INVALID_ARGUMENT, correlator_rule);
    v->correlator = corr;
    if (head_header_bytes(h) > SN_HTTP_MAX_HEADER_BYTES) {
        snprintf(msg, sizeof(msg), "request headers over %u bytes", SN_HTTP_MAX_HEADER_BYTES);
        return head_refused(v, SN_HTTP_HEADERS_TOO_LARGE, msg);
    }
    const sn_route *rt = route_of_head(h);
    if (rt == NULL || rt->auth == SN_AUTH_NONE)
        return 1; /* public, 404 or 405: a small body at most */
    if (!judge_auth(svc, rt, bearer_of(sn_head_get(h, "authorization")), &a))
        return head_refused(v, a.err, a.msg);
    if (!a.session) {
        v->anonymous = 0;
        if (!(rt->flags & SN_ROUTE_SELFSERVICE))
            v->max_body = SN_HTTP_MAX_BODY;
    }
    return 1;
}

int sn_router_handle(void *ctx, h2o_req_t *req)
{
    sn_call *c = h2o_mem_alloc_pool(&req->pool, sizeof(*c));
    h2o_iovec_t path = req->path_normalized;
    int path_known = 0;
    memset(c, 0, sizeof(*c));
    c->started_us = sn_monotonic_us();
    c->req = req;
    c->svc = ctx;
    if (!headers_ok(c))
        return 0;
    for (size_t r = 0; r < sn_nroutes; r++) {
        const char *param = NULL;
        size_t plen = 0;
        if (!sn_route_matches(sn_routes[r].path, path, &param, &plen))
            continue;
        path_known = 1;
        if (!method_matches(req, sn_routes[r].method))
            continue;
        c->route = &sn_routes[r];
        if (!admit(c, param, plen))
            return 0;
        if (c->route->work != NULL && (c->route->handle == NULL || c->session))
            sn_http_submit(sn_http_job_new(c, c->route->work, NULL));
        else
            c->route->handle(c);
        return 0;
    }
    if (!path_known && sn_portal_serve(c, path))
        return 0; /* a file of the subscriber portal (h_portal.c) */
    if (path_known)
        method_not_allowed(c, path);
    else
        sn_reply_error(c, SN_HTTP_NOT_FOUND, "no such resource: %.*s",
                       (int)(path.len > 200 ? 200 : path.len), path.base);
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9' || strlen(s) > 19)
        return 0;
    *out = strtoull(s, &end, 10);
    return *end == '\0';
}

int sn_call_paging(sn_call *c, uint64_t *after, uint32_t *limit, uint32_t def, uint32_t max)
{
    const char *a = sn_call_param(c, "after"), *l = sn_call_param(c, "limit");
    uint64_t v;
    *after = 0;
    *limit = def;
    if (a != NULL && !parse_u64(a, after)) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "after must be a cursor from 'next'");
        return 0;
    }
    if (l != NULL && (!parse_u64(l, &v) || v < 1 || v > max)) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "limit must be 1 to %u", max);
        return 0;
    }
    if (l != NULL)
        *limit = (uint32_t)v;
    return 1;
}
