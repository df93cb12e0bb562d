/*
 * query.h - the query string of a request (?a=1&b=x): strict parsing,
 * percent-decoding, and only the parameters a route names.
 */
#ifndef SN_QUERY_H
#define SN_QUERY_H

#include <h2o.h>

#define SN_QUERY_MAX_PARAMS 8
#define SN_HTTP_QUERY_VALUE_MAX 512

typedef struct {
    const char *name;
    char value[SN_HTTP_QUERY_VALUE_MAX + 1];
    int present;
} sn_query_param;

/* Fill params[0..n) (names set by the caller) from req's query string:
 * SN_OK, or SN_EINVAL (why says which) for an unknown, repeated, malformed
 * or too long parameter. */
int sn_query_parse(h2o_req_t *req, sn_query_param *params, size_t n, char *why, size_t whylen);

#endif
