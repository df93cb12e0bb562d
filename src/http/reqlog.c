/*
 * reqlog.c - the request log's line of a call (see reqlog.h). Only what
 * cannot carry a subscriber's number is read: the route's pattern (or, for
 * a path that is no route, its class), a method from a fixed list, the
 * key's id and app name, the session marker, the validated x-correlator
 * and the peer's address.
 */
#include "http/reqlog.h"

#include "http/router.h"
#include "util/clock.h"
#include "util/reqlog.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* The request's method, from a fixed list (the client's own text is not
 * logged). */
static const char *method_of(const h2o_req_t *req)
{
    static const char *const known[] = {"GET",     "HEAD",  "POST",  "PUT",    "DELETE",
                                        "OPTIONS", "PATCH", "TRACE", "CONNECT"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (h2o_memis(req->method.base, req->method.len, known[i], strlen(known[i])))
            return known[i];
    return "OTHER";
}

/* The peer's address as text; the last one is kept per thread (a
 * connection's requests share it). NULL when unknown. */
static const char *peer_of(h2o_req_t *req)
{
    static _Thread_local struct sockaddr_storage last;
    static _Thread_local socklen_t last_len;
    static _Thread_local char text[INET6_ADDRSTRLEN];
    struct sockaddr_storage ss;
    socklen_t len;
    if (req->conn->callbacks->get_peername == NULL)
        return NULL;
    memset(&ss, 0, sizeof(ss));
    len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (len == 0)
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

void sn_reqlog_request(sn_call *c, int status)
{
    h2o_req_t *req = c->req;
    if (!sn_reqlog_on())
        return;
    int head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    sn_reqlog_entry e = {
        .route = sn_router_route_name(c, status),
        .method = method_of(req),
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
