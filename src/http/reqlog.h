/*
 * reqlog.h - a request's line in the request log (util/reqlog.h), from
 * the call answering it: the route's pattern (never the path), the
 * method, status, latency, the caller's key and app or session marker,
 * the x-correlator, the peer's address and the body's bytes. Loop
 * threads; called by sn_reply, the one place answers go out.
 */
#ifndef SN_HTTP_REQLOG_H
#define SN_HTTP_REQLOG_H

#include "http/http.h"

/* Log the answer to c (status; its body's length is set in c->req). */
void sn_reqlog_request(sn_call *c, int status);

#endif
