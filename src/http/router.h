/*
 * router.h - the server's request handler: routes, authentication, the
 * query and {id} of a request (router.c), before its handler runs.
 */
#ifndef SN_ROUTER_H
#define SN_ROUTER_H

#include "http/http.h"
#include "http/server.h"

/* Answer req (ctx: the sn_service); always 0 (the answer is ours). */
int sn_router_handle(void *ctx, h2o_req_t *req);

/* From a request's head alone, before its body is read (ctx: the
 * sn_service; sn_server_options.admit_head): the x-correlator, the size of
 * the headers and the caller's credential are judged as the router judges
 * them, so a request that would be refused is refused without its body.
 * The body may be SN_HTTP_MAX_BODY with a valid API key for the route, else
 * SN_HTTP_MAX_PUBLIC_BODY (public routes, sessions, unknown paths). A body
 * within SN_HTTP_MAX_PUBLIC_BODY that arrived whole with its head is
 * admitted as it is, unjudged: the router judges the request at once. */
int sn_router_admit_head(void *ctx, const sn_head *h, sn_head_verdict *v);

/* The handler of the --metrics-listen address (sn_server_options
 * .metrics_handle; ctx: the sn_service): GET or HEAD /metrics answered
 * without a credential, everything else 404. */
int sn_metrics_listener_handle(void *ctx, h2o_req_t *req);

/* Its verdict on a request with a body, from the head alone
 * (sn_server_options.metrics_admit_head): 404, the body never read. */
int sn_metrics_listener_admit_head(void *ctx, const sn_head *h, sn_head_verdict *v);

#endif
