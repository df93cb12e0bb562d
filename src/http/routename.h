/*
 * routename.h - a path against the route table's patterns (routename.c).
 */
#ifndef SN_HTTP_ROUTENAME_H
#define SN_HTTP_ROUTENAME_H

#include "http/head.h"
#include "http/http.h"

/* Does path match the route pattern (exact, or with one {id} segment)?
 * Sets *param and *plen to the {id} segment's bytes. */
int sn_route_matches(const char *pattern, h2o_iovec_t path, const char **param, size_t *plen);

/* What the request log names the request by (never its path, which may
 * carry a number): its route's pattern ("/v1/notices/{id}/ack"), the
 * pattern its path matches when no route was taken (a 405, or refused
 * before routing), "portal" for a file of the subscriber portal, or
 * "no-route" for a path that is none (404). */
const char *sn_route_name(const sn_call *c, int status);

/* The same for a request refused from its head alone (conn.c): the
 * pattern its path matches, "no-route", or "refused" without a head. */
const char *sn_route_name_of_head(const sn_head *h);

#endif
