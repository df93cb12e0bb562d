/*
 * reply.c - writing responses: JSON bodies, the x-correlator echo, and the
 * one table that maps every API error to its HTTP status and CAMARA code.
 * Runs on the loop thread that owns the request.
 */
#include "http/http.h"

#include <stdio.h>

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


void sn_reply_json(sn_call *c, int status, const char *body, size_t len)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_req_t *req = c->req;
    h2o_iovec_t buf = h2o_strdup(&req->pool, body, len);

    req->res.status = status;
    req->res.reason = reason_of(status);
    if (req->conn->ctx->shutdown_requested)
        req->http1_is_persistent = 0; /* tell keep-alive clients we are going */
    req->res.content_length = buf.len; /* always: without it h2o chunks and drops keep-alive */
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    if (c->correlator.base != NULL)
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-correlator"), 0, NULL,
                              c->correlator.base, c->correlator.len);
    h2o_start_response(req, &generator);
    h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

void sn_reply_error(sn_call *c, sn_http_error e, const char *fmt, ...)
{
    char msg[512], esc[1100], body[1300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t n = sn_json_escape(msg, strlen(msg), esc, sizeof(esc) - 1);
    esc[n < sizeof(esc) ? n : sizeof(esc) - 1] = '\0';
    int len = snprintf(body, sizeof(body), "{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\"}",
                       errors[e].status, errors[e].code, esc);
    if (e == SN_HTTP_UNAVAILABLE) /* the database is away: clients retry, not give up */
        h2o_add_header(&c->req->pool, &c->req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                       H2O_STRLIT("1"));
    sn_reply_json(c, errors[e].status, body, (size_t)len);
}
