/*
 * router.h - the server's request handler: routes, authentication, the
 * query and {id} of a request (router.c), before its handler runs.
 */
#ifndef SN_ROUTER_H
#define SN_ROUTER_H

#include "http/http.h"

/* Answer req (ctx: the sn_service); always 0 (the answer is ours). */
int sn_router_handle(void *ctx, h2o_req_t *req);

#endif
