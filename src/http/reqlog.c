/*
 * reqlog.c - the request log's line of a call (see reqlog.h). Only what
 * cannot carry a subscriber's number is read: the route's pattern (or, for
 * a path that is no route, its class), a method from a fixed list, the
 * key's id and app name, the session marker, the validated x-correlator
 * and the peer's address.
 */
#include "http/reqlog.h"

#include "http/routename.h"
#include "util/clock.h"
#include "util/reqlog.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* The request's method, from a fixed list (the client's own text is not
 * logged). */
static const char *method_of(h2o_iovec_t method)
{
    static const char *const known[] = {"GET",     "HEAD",  "POST",  "PUT",    "DELETE",
                                        "OPTIONS", "PATCH", "TRACE", "CONNECT"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (h2o_memis(method.base, method.len, known[i], strlen(known[i])))
            return known[i];
    return "OTHER";
}

/* A peer's address as text; the last one is kept per thread (a
 * connection's requests share it). NULL when unknown. */
static const char *address_text(const struct sockaddr_storage *sa, socklen_t len)
{
    static _Thread_local struct sockaddr_storage last;
    static _Thread_local socklen_t last_len;
    static _Thread_local char text[INET6_ADDRSTRLEN];
    struct sockaddr_storage ss = *sa;
    if (len == 0 || len > sizeof(ss))
        return NULL;
    if (len == last_len && memcmp(&ss, &last, len) == 0)
        return text;
    const void *addr = NULL;
    int family = ss.ss_family;
    if (family == AF_INET) {
        addr = &((struct sockaddr_in *)&ss)->sin_addr;
    } else if (family == AF_INET6) {
        struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        addr = a6;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            family = AF_INET;
            addr = &a6->s6_addr[12];
        }
    }
    if (addr == NULL || inet_ntop(family, addr, text, sizeof(text)) == NULL) {
        last_len = 0;
        return NULL;
    }
    memcpy(&last, &ss, len);
    last_len = len;
    return text;
}

static const char *peer_of(h2o_req_t *req)
{
    struct sockaddr_storage ss;
    if (req->conn->callbacks->get_peername == NULL)
        return NULL;
    memset(&ss, 0, sizeof(ss));
    return address_text(&ss, req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss));
}

void sn_reqlog_request(sn_call *c, int status)
{
    h2o_req_t *req = c->req;
    if (!sn_reqlog_on())
        return;
    int head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    sn_reqlog_entry e = {
        .route = sn_route_name(c, status),
        .method = method_of(req->method),
        .status = status,
        .latency_us = c->started_us > 0 ? sn_monotonic_us() - c->started_us : 0,
        .key = c->who.role != SN_ROLE_NONE ? (int64_t)c->who.key : -1,
        .app = c->who.role == SN_ROLE_APP ? c->who.app : NULL,
        .session = c->session,
        .correlator = c->correlator.base,
        .correlator_len = c->correlator.len,
        .client = peer_of(req),
        .bytes = head ? 0 : req->res.content_length,
    };
    sn_reqlog_add(&e);
}

void sn_reqlog_refused(const sn_head *h, int fd, int status, const char *correlator, size_t bytes)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (!sn_reqlog_on())
        return;
    memset(&ss, 0, sizeof(ss));
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        len = 0;
    sn_reqlog_entry e = {
        .route = sn_route_name_of_head(h),
        .method = h != NULL && h->method.base != NULL ? method_of(h->method) : "OTHER",
        .status = status,
        .key = -1,
        .correlator = correlator[0] != '\0' ? correlator : NULL,
        .correlator_len = strlen(correlator),
        .client = address_text(&ss, len),
        .bytes = bytes,
    };
    sn_reqlog_add(&e);
}

void sn_reqlog_server(h2o_req_t *req, int status, size_t bytes)
{
    if (!sn_reqlog_on())
        return;
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-correlator"), -1);
    h2o_iovec_t corr = i != -1 ? req->headers.entries[i].value : h2o_iovec_init(NULL, 0);
    if (corr.base != NULL && !sn_correlator_valid(corr))
        corr = h2o_iovec_init(NULL, 0);
    sn_reqlog_entry e = {
        .route = "refused",
        .method = method_of(req->method),
        .status = status,
        .key = -1,
        .correlator = corr.base,
        .correlator_len = corr.len,
        .client = peer_of(req),
        .bytes = bytes,
    };
    sn_reqlog_add(&e);
}
