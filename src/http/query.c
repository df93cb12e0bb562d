/*
 * query.c - query-string parsing (see query.h).
 */
#include "http/query.h"

#include "core/errors.h"

#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..len) into out (cap bytes with the NUL); '+' is a
 * space. -1 when malformed, too long, or decoding to a NUL. */
static int decode(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '%') {
            if (i + 2 >= len)
                return -1;
            int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
            if (a < 0 || b < 0 || (a == 0 && b == 0))
                return -1;
            ch = (char)(a * 16 + b);
            i += 2;
        } else if (ch == '+') {
            ch = ' ';
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = ch;
    }
    out[n] = '\0';
    return 0;
}

int sn_query_parse(h2o_req_t *req, sn_query_param *params, size_t n, char *why, size_t whylen)
{
    for (size_t k = 0; k < n; k++)
        params[k].present = 0;
    if (req->query_at == SIZE_MAX)
        return SN_OK;
    const char *p = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        size_t nlen = (size_t)((eq != NULL ? eq : stop) - p), k = 0;
        if (nlen > 0) {
            for (; k < n; k++)
                if (strlen(params[k].name) == nlen && memcmp(params[k].name, p, nlen) == 0)
                    break;
            if (k == n)
                return sn_fail(why, whylen, SN_EINVAL, "unknown query parameter '%.*s'",
                               (int)(nlen > 64 ? 64 : nlen), p);
            if (params[k].present)
                return sn_fail(why, whylen, SN_EINVAL, "query parameter '%s' appears twice",
                               params[k].name);
            const char *v = eq != NULL ? eq + 1 : stop;
            if (decode(v, (size_t)(stop - v), params[k].value, sizeof(params[k].value)) != 0)
                return sn_fail(why, whylen, SN_EINVAL,
                               "query parameter '%s' is malformed or longer than %d bytes",
                               params[k].name, SN_HTTP_QUERY_VALUE_MAX);
            params[k].present = 1;
        }
        p = stop + 1;
    }
    return SN_OK;
}
