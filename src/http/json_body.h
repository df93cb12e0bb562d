/*
 * json_body.h - reading a request body as a JSON object with jansson, for
 * the endpoints whose bodies are structured (batches, events, admin).
 * Bounded: nesting deeper than SN_HTTP_MAX_JSON_DEPTH is refused before
 * jansson sees it.
 */
#ifndef SN_JSON_BODY_H
#define SN_JSON_BODY_H

#include "http/http.h"

#include <jansson.h>

/* The body as a JSON object, or NULL after replying 400 INVALID_ARGUMENT. */
json_t *sn_json_body(sn_call *c);

/* Depth of the deepest array/object nesting in text (strings skipped). */
int sn_json_depth(const char *text, size_t len);

#endif
