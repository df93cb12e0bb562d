/*
 * reqlog.h - a request's line in the request log (util/reqlog.h), from
 * the call answering it: the route's pattern (never the path), the
 * method, status, latency, the caller's key and app or session marker,
 * the x-correlator, the peer's address and the body's bytes. Loop
 * threads; called by sn_reply, the one place the router's answers go
 * out, and for the few answers sent before routing (conn.c, server.c).
 */
#ifndef SN_HTTP_REQLOG_H
#define SN_HTTP_REQLOG_H

#include "http/head.h"
#include "http/http.h"

/* Log the answer to c (status; its body's length is set in c->req). */
void sn_reqlog_request(sn_call *c, int status);

/* Log a request conn.c refused from its head alone, before routing (h:
 * its head, or NULL when it could not be read): status, the correlator
 * echoed ("" none), the answer's body length; the client is fd's peer. */
void sn_reqlog_refused(const sn_head *h, int fd, int status, const char *correlator, size_t bytes);

/* Log an answer of the server's own to req (server.c: a framing error
 * h2o's reader passed, or h2o's own 400 and 413): route "refused". */
void sn_reqlog_server(h2o_req_t *req, int status, size_t bytes);

#endif
