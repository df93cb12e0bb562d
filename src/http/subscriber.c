/*
 * subscriber.c - the subscriber job machinery (see subscriber.h): session
 * judgement, client addresses, rate limits, committed errors, and the
 * complaint JSON shared by the subscriber's and the desks' views.
 */
#include "http/subscriber.h"

#include "core/errors.h"
#include "http/json_body.h"
#include "notice/notice_json.h"
#include "notice/notifier.h"
#include "crypto/tokens.h"
#include "store/log.h"
#include "store/keys.h"
#include "store/subscribers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int sn_sub_store_failed(sn_sub_job *j, const char *what, const char *err)
{
    fprintf(stderr, "secondnum serve: %s: %s\n", what, err);
    return sn_tenant_fail(&j->t, SN_HTTP_INTERNAL, "the store failed; nothing was changed");
}

int sn_sub_committed_error(sn_sub_job *j, sn_http_error e, const char *fmt, ...)
{
    char msg[SN_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (j->t.out.s != NULL) {
        j->t.out.len = 0;
        j->t.out.s[0] = '\0';
    }
    sn_strbuf_printf(&j->t.out, "{\"status\":%d,\"code\":\"%s\",\"message\":",
                     sn_http_error_status(e), sn_http_error_code(e));
    sn_strbuf_string(&j->t.out, msg);
    sn_strbuf_printf(&j->t.out, "}");
    j->t.status = sn_http_error_status(e);
    return SN_OK;
}

int sn_sub_rate_limited(sn_sub_job *j, sn_store *s, const char *kind, const char *key,
                        uint32_t limit, const char *what)
{
    char bucket[SN_CLIENT_ADDR_MAX + 32], err[SN_ERRMSG_MAX], until[SN_TIME_TEXT_MAX];
    int64_t window = sn_rate_window(j->t.now);
    uint32_t count = 0;
    snprintf(bucket, sizeof(bucket), "%s:%s", kind, key);
    if (sn_store_rate_hit(s, bucket, window, &count, err, sizeof(err)) != SN_OK) {
        sn_sub_store_failed(j, "rate limit", err);
        return -1;
    }
    if (count <= limit)
        return 0;
    sn_utc_format(window + 3600, until);
    sn_tenant_fail(&j->t, SN_HTTP_TOO_MANY_REQUESTS,
                   "too many %s: at most %u an hour; try again after %s", what, limit, until);
    return 1;
}

/* ---- writer thread ---------------------------------------------------------- */

static int judge_session(sn_sub_job *j, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    int rc = sn_store_session_get(s, j->token_hash, &j->ses, err, sizeof(err));
    if (rc == SN_ENOTFOUND)
        return sn_tenant_fail(&j->t, SN_HTTP_UNAUTHENTICATED,
                              "no such session (it ended or never was): sign in again");
    if (rc != SN_OK)
        return sn_sub_store_failed(j, "session", err);
    if (sn_store_get_state(s, j->ses.number, &j->st, err, sizeof(err)) != SN_OK)
        return sn_sub_store_failed(j, "session", err);
    switch (sn_session_judge(&j->ses, &j->st, j->t.now)) {
    case SN_SESSION_EXPIRED:
        return sn_tenant_fail(&j->t, SN_HTTP_UNAUTHENTICATED,
                              "the session has expired: sign in again");
    case SN_SESSION_ENDED:
        return sn_tenant_fail(&j->t, SN_HTTP_UNAUTHENTICATED,
                              "the session has ended: the number was cancelled or changed hands "
                              "since you signed in");
    default: return SN_OK;
    }
}

static int run_sub(sn_tenant_job *t, sn_store *s)
{
    sn_sub_job *j = (sn_sub_job *)t;
    if (j->need_session && judge_session(j, s) != SN_OK)
        return SN_EINVAL;
    return j->work(j, s);
}

/* ---- loop thread ------------------------------------------------------------ */

/* The client's address: the trusted proxy header's first entry when one is
 * configured and present, else the peer. An IPv6 client counts by its /64,
 * which one subscriber line usually gets whole. */
static void client_addr(sn_call *c, char *out, size_t cap)
{
    const char *name = c->svc->subscribers->opt.client_ip_header;
    struct sockaddr_storage ss;
    if (name[0] != '\0') {
        ssize_t i = h2o_find_header_by_str(&c->req->headers, name, strlen(name), -1);
        if (i != -1) {
            h2o_iovec_t v = c->req->headers.entries[i].value;
            size_t n = 0, start = 0;
            while (start < v.len && v.base[start] == ' ')
                start++;
            while (start + n < v.len && v.base[start + n] != ',' && v.base[start + n] != ' ' &&
                   n + 1 < cap)
                n++;
            if (n > 0) {
                memcpy(out, v.base + start, n);
                out[n] = '\0';
                return;
            }
        }
    }
    memset(&ss, 0, sizeof(ss));
    snprintf(out, cap, "unknown");
    if (c->req->conn->callbacks->get_peername == NULL ||
        c->req->conn->callbacks->get_peername(c->req->conn, (struct sockaddr *)&ss) == 0)
        return;
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)cap);
    } else if (ss.ss_family == AF_INET6) {
        struct in6_addr a = ((struct sockaddr_in6 *)&ss)->sin6_addr;
        memset(a.s6_addr + 8, 0, 8);
        inet_ntop(AF_INET6, &a, out, (socklen_t)cap);
    }
}

/* The session token of the Authorization header, hashed; 0 after a 401. */
static int session_token(sn_call *c, uint8_t hash[SN_SECRET_HASH_LEN])
{
    ssize_t i = h2o_find_header(&c->req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i == -1) {
        sn_reply_error(c, SN_HTTP_UNAUTHENTICATED,
                       "sign in first: missing Authorization: Bearer session token");
        return 0;
    }
    h2o_iovec_t v = c->req->headers.entries[i].value;
    if (v.len < 8 || strncasecmp(v.base, "Bearer ", 7) != 0 ||
        !sn_session_token_shaped(v.base + 7, v.len - 7)) {
        sn_reply_error(c, SN_HTTP_UNAUTHENTICATED, "not a session token: sign in again");
        return 0;
    }
    sn_session_token_hash(v.base + 7, v.len - 7, hash);
    return 1;
}

static int parse_id(sn_call *c, uint64_t *id)
{
    char text[24], *end;
    if (c->param_len == 0 || c->param_len >= sizeof(text))
        goto bad;
    memcpy(text, c->param, c->param_len);
    text[c->param_len] = '\0';
    if (text[0] < '0' || text[0] > '9')
        goto bad;
    *id = strtoull(text, &end, 10);
    if (*end == '\0' && *id != 0)
        return 1;
bad:
    sn_reply_error(c, SN_HTTP_NOT_FOUND, "no such resource");
    return 0;
}

sn_sub_job *sn_sub_job_new(sn_call *c, int (*work)(sn_sub_job *, sn_store *),
                           const char *const *query_names, int with_body, int with_id,
                           int need_session)
{
    sn_sub_job *j = h2o_mem_alloc_pool(&c->req->pool, sizeof(*j));
    sn_tenant_job *t = &j->t;
    memset(j, 0, sizeof(*j));
    if (c->svc->subscribers == NULL || c->svc->secret == NULL) {
        sn_reply_error(c, SN_HTTP_UNAVAILABLE, "subscriber self-service is not configured");
        return NULL;
    }
    t->svc = c->svc;
    t->work = run_sub;
    t->now = (int64_t)time(NULL);
    t->read_only = h2o_memis(c->req->method.base, c->req->method.len, H2O_STRLIT("GET"));
    j->work = work;
    j->need_session = need_session;
    j->role = c->key.role;
    j->carrier = c->key.carrier;
    if (c->key.role == SN_ROLE_APP)
        snprintf(t->app, sizeof(t->app), "%s", c->key.name);
    if (need_session && !session_token(c, j->token_hash))
        return NULL;
    for (; query_names != NULL && query_names[t->nq] != NULL && t->nq < SN_QUERY_MAX_PARAMS; t->nq++)
        t->q[t->nq].name = query_names[t->nq];
    if (sn_query_parse(c, t->q, t->nq) != 0)
        return NULL;
    if (with_id && !parse_id(c, &t->id))
        return NULL;
    if (c->req->entity.len > SN_SUB_BODY_MAX) {
        sn_reply_error(c, SN_HTTP_PAYLOAD_TOO_LARGE, "the request body is larger than %u bytes",
                       SN_SUB_BODY_MAX);
        return NULL;
    }
    if (with_body == 2 && (c->req->entity.base == NULL || c->req->entity.len == 0))
        with_body = 0; /* an optional body left out */
    if (with_body && (t->body = sn_json_body(c)) == NULL)
        return NULL;
    client_addr(c, j->addr, sizeof(j->addr));
    return j;
}

void sn_sub_submit(sn_call *c, sn_sub_job *j)
{
    sn_tenant_submit(c, &j->t);
}

/* ---- complaints as JSON ---------------------------------------------------- */

void sn_sub_complaint_json(sn_strbuf *b, const sn_complaint *c, int with_number, int64_t now)
{
    int level = sn_complaint_level_at(c, now);
    int first = c->app != 0 ? SN_LEVEL_APP : SN_LEVEL_CARRIER;
    sn_strbuf_printf(b, "{\"id\":\"%llu\"", (unsigned long long)c->id);
    if (with_number) {
        char number[SN_NUMBER_TEXT_MAX];
        sn_number_format(c->number, number);
        sn_strbuf_printf(b, ",\"number\":\"%s\"", number);
    }
    sn_strbuf_printf(b, ",\"app\":");
    sn_strbuf_string(b, c->app != 0 ? c->app_name : NULL);
    sn_strbuf_printf(b, ",\"display_name\":");
    sn_strbuf_string(b, c->app != 0 ? (c->display[0] != '\0' ? c->display : c->app_name) : NULL);
    sn_strbuf_printf(b, ",\"carrier\":");
    sn_strbuf_string(b, c->carrier_name[0] != '\0' ? c->carrier_name : NULL);
    sn_strbuf_printf(b, ",\"kind\":\"%s\",\"text\":", sn_complaint_kind_name(c->kind));
    sn_strbuf_string(b, c->text);
    sn_json_time_field(b, "created_at", c->created);
    sn_strbuf_printf(b, ",\"level\":\"%s\",\"state\":\"%s\"", sn_level_name(level),
                     c->resolved_at != 0 ? "resolved" : "open");
    sn_json_time_field(b, "deadline", c->resolved_at != 0 ? 0 : sn_complaint_level_ends(c, level));
    sn_strbuf_printf(b, ",\"escalations\":[");
    for (int k = first + 1; k <= level; k++) {
        char at[SN_TIME_TEXT_MAX];
        sn_utc_format(sn_complaint_level_starts(c, k), at);
        sn_strbuf_printf(b, "%s{\"level\":\"%s\",\"at\":\"%s\"}", k > first + 1 ? "," : "",
                         sn_level_name(k), at);
    }
    sn_strbuf_printf(b, "]");
    sn_json_time_field(b, "resolved_at", c->resolved_at);
    sn_strbuf_printf(b, ",\"resolved_by\":");
    sn_strbuf_string(b, c->resolved_level > 0 ? sn_level_name(c->resolved_level - 1) : NULL);
    sn_strbuf_printf(b, ",\"resolution\":");
    sn_strbuf_string(b, c->resolved_at != 0 ? c->resolution : NULL);
    sn_strbuf_printf(b, "}");
}
