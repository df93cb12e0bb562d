/*
 * body.h - reading request bodies: the one reader of flat JSON objects
 * (every body but the arrays of events, bindings and check items), and the
 * array bodies whose items are flat objects (flatjson.h). Strict: unknown
 * properties, duplicates, nested values, numbers and NUL characters in
 * strings are refused with a sentence naming the property. Decoded values
 * live in the request's pool. Loop thread.
 */
#ifndef SN_BODY_H
#define SN_BODY_H

#include "http/flatjson.h"
#include "http/http.h"

/* The body's fields (names and kinds set by the caller; values NULL when
 * absent). optional: an empty body is no fields. 1, or 0 after a 400 reply. */
int sn_body_fields(sn_call *c, sn_flat_field *fields, size_t n, int optional);

/* The same without the reply: SN_OK, or SN_EINVAL with why. */
int sn_body_parse(sn_call *c, sn_flat_field *fields, size_t n, char *why, size_t whylen);

/* The elements of a body {"<key>": [...]}, 1 to max of them: 1, or 0 after
 * a 400 reply naming the shape. items is in the request's pool. */
int sn_body_items(sn_call *c, const char *key, size_t max, sn_flat_span **items, size_t *n);

/* One element of an array body as a flat object into fields (values in the
 * request's pool): SN_OK, or SN_EINVAL with the reason in why. */
int sn_body_item(sn_call *c, const sn_flat_span *item, sn_flat_field *fields, size_t n, char *why,
                 size_t whylen);

#endif
