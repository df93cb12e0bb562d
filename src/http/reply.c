/*
 * reply.c - writing responses: the one way an answer is sent, the
 * x-correlator echo, and the one table that maps every API error to its
 * HTTP status and CAMARA code, and every service code (SN_E*) to an API
 * error. Every answer to a route is handed to the audit trail here
 * (audit/audit.h, audit_call.c); an acknowledged write's answer is held
 * until its audit row is committed, then sent from its loop thread. Runs
 * on the loop thread that owns the request.
 */
#include "http/http.h"

#include "core/errors.h"
#include "http/reqlog.h"
#include "util/log.h"
#include "util/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int status;
    const char *reason; /* h2o keeps the pointer: static strings only */
    const char *code;
} errors[] = {
    [SN_HTTP_INVALID_ARGUMENT] = {400, "Bad Request", "INVALID_ARGUMENT"},
    [SN_HTTP_OUT_OF_RANGE] = {400, "Bad Request", "OUT_OF_RANGE"},
    [SN_HTTP_UNAUTHENTICATED] = {401, "Unauthorized", "UNAUTHENTICATED"},
    [SN_HTTP_PERMISSION_DENIED] = {403, "Forbidden", "PERMISSION_DENIED"},
    [SN_HTTP_IDENTIFIER_NOT_FOUND] = {404, "Not Found", "IDENTIFIER_NOT_FOUND"},
    [SN_HTTP_NOT_FOUND] = {404, "Not Found", "NOT_FOUND"},
    [SN_HTTP_METHOD_NOT_ALLOWED] = {405, "Method Not Allowed", "METHOD_NOT_ALLOWED"},
    [SN_HTTP_CONFLICT] = {409, "Conflict", "CONFLICT"},
    [SN_HTTP_PAYLOAD_TOO_LARGE] = {413, "Payload Too Large", "PAYLOAD_TOO_LARGE"},
    [SN_HTTP_HEADERS_TOO_LARGE] = {431, "Request Header Fields Too Large",
                                   "REQUEST_HEADER_FIELDS_TOO_LARGE"},
    [SN_HTTP_UNSUPPORTED_MEDIA_TYPE] = {415, "Unsupported Media Type", "UNSUPPORTED_MEDIA_TYPE"},
    [SN_HTTP_MISSING_IDENTIFIER] = {422, "Unprocessable Content", "MISSING_IDENTIFIER"},
    [SN_HTTP_UNNECESSARY_IDENTIFIER] = {422, "Unprocessable Content", "UNNECESSARY_IDENTIFIER"},
    [SN_HTTP_SERVICE_NOT_APPLICABLE] = {422, "Unprocessable Content", "SERVICE_NOT_APPLICABLE"},
    [SN_HTTP_INTERNAL] = {500, "Internal Server Error", "INTERNAL"},
    [SN_HTTP_UNAVAILABLE] = {503, "Service Unavailable", "UNAVAILABLE"},
    [SN_HTTP_TOO_MANY_REQUESTS] = {429, "Too Many Requests", "TOO_MANY_REQUESTS"},
};

int sn_http_error_status(sn_http_error e)
{
    return errors[e].status;
}

const char *sn_http_error_code(sn_http_error e)
{
    return errors[e].code;
}

/* What each service code means to a client. */
sn_http_error sn_http_error_of(int code)
{
    switch (code) {
    case SN_EINVAL:
    case SN_ENUMBER:
    case SN_EDATE:
    case SN_EEVENT:
    case SN_ELIMIT:
        return SN_HTTP_INVALID_ARGUMENT;
    case SN_EFUTURE:
        return SN_HTTP_OUT_OF_RANGE;
    case SN_EAUTH:
        return SN_HTTP_UNAUTHENTICATED;
    case SN_EPERM:
        return SN_HTTP_PERMISSION_DENIED;
    case SN_ENOTFOUND:
        return SN_HTTP_NOT_FOUND;
    case SN_ECONFLICT:
        return SN_HTTP_CONFLICT;
    case SN_ERATE:
        return SN_HTTP_TOO_MANY_REQUESTS;
    case SN_EUNAVAILABLE:
        return SN_HTTP_UNAVAILABLE;
    default:
        return SN_HTTP_INTERNAL;
    }
}

static const char *reason_of(int status)
{
    if (status == 200)
        return "OK";
    if (status == 201)
        return "Created";
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        if (errors[i].status == status)
            return errors[i].reason;
    return "Error";
}

/* Send what sn_reply prepared (the head is set). */
static void send_reply(sn_call *c, int status, h2o_iovec_t buf)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_req_t *req = c->req;
    h2o_start_response(req, &generator);
    /* HEAD: the same head (length included), no body */
    int head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    sn_metrics_request(c, status); /* before the send: the request may be gone after it */
    h2o_send(req, &buf, head ? 0 : 1, H2O_SEND_STATE_FINAL);
}

/* Loop thread: the held answer of a write whose audit row is committed. */
static void send_held(sn_loop_message *m)
{
    sn_call *c = (sn_call *)((char *)m - offsetof(sn_call, audit_done));
    send_reply(c, c->held_status, c->held_body);
}

/* Audit thread: the row is committed; the answer may go. */
static void audit_committed(void *arg)
{
    sn_call *c = arg;
    sn_server_post(c->req, &c->audit_done);
}

void sn_reply(sn_call *c, int status, const char *content_type, const char *body, size_t len)
{
    h2o_req_t *req = c->req;
    h2o_iovec_t buf = h2o_strdup(&req->pool, body, len);
    req->res.status = status;
    req->res.reason = reason_of(status);
    if (req->conn->ctx->shutdown_requested)
        req->http1_is_persistent = 0;  /* tell keep-alive clients we are going */
    req->res.content_length = buf.len; /* always: without it h2o chunks and drops keep-alive */
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                   strlen(content_type));
    if (c->correlator.base != NULL)
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-correlator"), 0, NULL,
                              c->correlator.base, c->correlator.len);
    sn_reqlog_request(c, status); /* before the answer leaves: in the log when the client has it */
    if (c->route != NULL && sn_audit_on() && !(c->audit.written && status < 300)) {
        sn_audit_record r;
        sn_audit_of_call(c, status, &r);
        if (sn_audit_held(c, status)) { /* an acknowledged write: after its row */
            c->held_status = status;
            c->held_body = buf;
            c->audit_done.run = send_held;
            r.done = audit_committed;
            r.arg = c;
        }
        sn_audit_add(&r);
        if (r.done != NULL)
            return;
    }
    send_reply(c, status, buf);
}

/* Every JSON answer ends with a newline (a terminal's prompt after curl's
 * output starts on its own line); Content-Length counts it. */
void sn_reply_json(sn_call *c, int status, const char *body, size_t len)
{
    if (len > 0 && body[len - 1] == '\n') {
        sn_reply(c, status, "application/json", body, len);
        return;
    }
    char *line = h2o_mem_alloc_pool(&c->req->pool, len + 1);
    memcpy(line, body, len);
    line[len] = '\n';
    sn_reply(c, status, "application/json", line, len + 1);
}

void sn_reply_buf(sn_call *c, int status, const sn_strbuf *b)
{
    if (b->failed)
        sn_reply_error(c, SN_HTTP_INTERNAL, "out of memory");
    else
        sn_reply_json(c, status, b->s != NULL ? b->s : "{}", b->s != NULL ? b->len : 2);
}

static void reply_message(sn_call *c, sn_http_error e, const char *msg)
{
    char esc[1100], body[1300];
    void (*refuse)(sn_call *, sn_http_error, const char *) = c->refuse;
    c->refuse = NULL;
    if (refuse != NULL && e != SN_HTTP_UNAUTHENTICATED && errors[e].status < 500) {
        refuse(c, e, msg);
        return;
    }
    size_t n = sn_json_escape(msg, strlen(msg), esc, sizeof(esc) - 1);
    esc[n < sizeof(esc) ? n : sizeof(esc) - 1] = '\0';
    int len = snprintf(body, sizeof(body), "{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\"}",
                       errors[e].status, errors[e].code, esc);
    if (e == SN_HTTP_UNAVAILABLE) /* the database is away: clients retry, not give up */
        h2o_add_header(&c->req->pool, &c->req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                       H2O_STRLIT("1"));
    sn_reply_json(c, errors[e].status, body, (size_t)len);
}

void sn_reply_error(sn_call *c, sn_http_error e, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    reply_message(c, e, msg);
}

void sn_reply_status(sn_call *c, int code, const char *message)
{
    sn_http_error e = sn_http_error_of(code);
    if (code == SN_ERATE) /* the services' own limits: the sign-in's */
        sn_metrics_count_refusal(SN_METRICS_REFUSAL_SIGNIN);
    if (e == SN_HTTP_INTERNAL) {
        sn_log(SN_LOG_ERROR, "%s: %s", c->route != NULL ? c->route->path : "",
               message[0] != '\0' ? message : sn_error_name(code));
        message = "the store failed; nothing was changed";
    }
    reply_message(c, e, message);
}
