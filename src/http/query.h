/*
 * query.h - the query string of a request (?a=1&b=x): strict parsing,
 * percent-decoding, and only the parameters a route names.
 */
#ifndef SN_QUERY_H
#define SN_QUERY_H

#include "http/http.h"

#define SN_QUERY_MAX_PARAMS 8

typedef struct {
    const char *name;
    char value[SN_HTTP_QUERY_VALUE_MAX + 1];
    int present;
} sn_query_param;

/* Fill params[0..n) (names set by the caller) from c's query string. An
 * unknown, repeated, malformed or too long parameter replies 400 and returns
 * -1; 0 otherwise. */
int sn_query_parse(sn_call *c, sn_query_param *params, size_t n);

#endif
