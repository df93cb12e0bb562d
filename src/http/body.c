/*
 * body.c - request bodies (see body.h).
 */
#include "http/body.h"

#include "core/errors.h"

#include <string.h>

/* Decoded text is never longer than its JSON, plus one NUL per field. */
static int parse(sn_call *c, const char *text, size_t len, sn_flat_field *fields, size_t n,
                 char *why, size_t whylen)
{
    size_t cap = len + n + 1;
    char *scratch = h2o_mem_alloc_pool(&c->req->pool, cap);
    int rc = sn_flatjson_parse(text, len, fields, n, scratch, cap, why, whylen);
    for (size_t i = 0; rc == SN_OK && i < n; i++)
        if (fields[i].value != NULL && memchr(fields[i].value, '\0', fields[i].len) != NULL)
            rc = sn_fail(why, whylen, SN_EINVAL, "property '%s' must not contain NUL",
                         fields[i].name);
    return rc;
}

int sn_body_parse(sn_call *c, sn_flat_field *fields, size_t n, char *why, size_t whylen)
{
    h2o_iovec_t body = c->req->entity;
    if (body.base == NULL || body.len == 0)
        return sn_fail(why, whylen, SN_EINVAL, "the request body is empty");
    return parse(c, body.base, body.len, fields, n, why, whylen);
}

int sn_body_fields(sn_call *c, sn_flat_field *fields, size_t n, int optional)
{
    char why[SN_ERRMSG_MAX];
    if (optional && (c->req->entity.base == NULL || c->req->entity.len == 0)) {
        for (size_t i = 0; i < n; i++)
            fields[i].value = NULL;
        return 1;
    }
    if (sn_body_parse(c, fields, n, why, sizeof(why)) == SN_OK)
        return 1;
    sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "%s", why);
    return 0;
}

int sn_body_items(sn_call *c, const char *key, size_t max, sn_flat_span **items, size_t *n)
{
    h2o_iovec_t body = c->req->entity;
    *items = h2o_mem_alloc_pool(&c->req->pool, max * sizeof(**items));
    *n = 0;
    int rc = body.base == NULL ? SN_EINVAL
                               : sn_flatjson_array(body.base, body.len, key, *items, max,
                                                   SN_HTTP_MAX_JSON_DEPTH - 2, n);
    if (rc == SN_OK && *n > 0)
        return 1;
    sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT,
                   "the body must be {\"%s\": [...]} with 1 to %zu elements, nested at most %d "
                   "deep",
                   key, max, SN_HTTP_MAX_JSON_DEPTH);
    return 0;
}

int sn_body_item(sn_call *c, const sn_flat_span *item, sn_flat_field *fields, size_t n, char *why,
                 size_t whylen)
{
    if (*item->start != '{')
        return sn_fail(why, whylen, SN_EINVAL, "must be an object");
    return parse(c, item->start, (size_t)(item->end - item->start), fields, n, why, whylen);
}
