/*
 * json_body.c - structured request bodies (see json_body.h).
 */
#include "http/json_body.h"

int sn_json_depth(const char *s, size_t len)
{
    int depth = 0, max = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = 0;
        } else if (ch == '"') {
            in_string = 1;
        } else if (ch == '{' || ch == '[') {
            if (++depth > max)
                max = depth;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return max;
}

json_t *sn_json_body(sn_call *c)
{
    h2o_iovec_t body = c->req->entity;
    json_error_t jerr;
    json_t *root;

    if (body.base == NULL || body.len == 0) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "the request body is empty");
        return NULL;
    }
    if (sn_json_depth(body.base, body.len) > SN_HTTP_MAX_JSON_DEPTH) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "JSON nested deeper than %d levels",
                       SN_HTTP_MAX_JSON_DEPTH);
        return NULL;
    }
    root = json_loadb(body.base, body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "malformed JSON at line %d column %d: %s",
                       jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "the request body must be a JSON object");
        return NULL;
    }
    return root;
}

