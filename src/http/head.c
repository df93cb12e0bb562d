/*
 * head.c - a request's head and its framing rules (see head.h).
 */
#include "http/head.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* picohttpparser, inside libh2o-evloop (its header is not installed): the
 * parser h2o reads every head with, so both see the same fields. */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
                      const char **path, size_t *path_len, int *minor_version,
                      struct phr_header *headers, size_t *num_headers, size_t last_len);

_Static_assert(SN_HEAD_MAX_BYTES == 32768, "the 431 sentence below names the limit");

/* Whether f is named name (given in lowercase), ASCII letters in either
 * case: by hand (strncasecmp, through the locale, was most of 0.9% of a
 * CAMARA check's samples). */
static int named(const sn_head_field *f, const char *name)
{
    size_t n = strlen(name);
    if (f->name.len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)f->name.base[i];
        if ((c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c) != (unsigned char)name[i])
            return 0;
    }
    return 1;
}

/* The value without the optional whitespace around it. */
static h2o_iovec_t trimmed(h2o_iovec_t v)
{
    while (v.len > 0 && (v.base[0] == ' ' || v.base[0] == '\t')) {
        v.base++;
        v.len--;
    }
    while (v.len > 0 && (v.base[v.len - 1] == ' ' || v.base[v.len - 1] == '\t'))
        v.len--;
    return v;
}

static int bad(sn_head *h, int status, const char *why)
{
    h->status = status;
    h->why = why;
    return SN_HEAD_BAD;
}

/* Content-Length: digits only (no sign, no list, no spaces inside). */
static int length_of(h2o_iovec_t v, size_t *out)
{
    uint64_t n = 0;
    v = trimmed(v);
    if (v.len == 0 || v.len > 18)
        return 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.base[i] < '0' || v.base[i] > '9')
            return 0;
        n = n * 10 + (uint64_t)(v.base[i] - '0');
    }
    *out = (size_t)n;
    return 1;
}

static int framing(sn_head *h)
{
    size_t lengths = 0, encodings = 0, hosts = 0;
    for (size_t i = 0; i < h->nfields; i++) {
        const sn_head_field *f = &h->fields[i];
        if (f->name.base == NULL)
            return bad(h, 400, "a header line folded onto the previous one (obs-fold)");
        if (named(f, "content-length")) {
            if (++lengths > 1)
                return bad(h, 400, "more than one Content-Length");
            if (!length_of(f->value, &h->content_length))
                return bad(h, 400, "Content-Length must be one decimal number");
        } else if (named(f, "transfer-encoding")) {
            h2o_iovec_t v = trimmed(f->value);
            if (++encodings > 1)
                return bad(h, 400, "more than one Transfer-Encoding");
            if (v.len != 7 || strncasecmp(v.base, "chunked", 7) != 0)
                return bad(h, 400, "Transfer-Encoding must be exactly \"chunked\"");
            h->chunked = 1;
        } else if (named(f, "host")) {
            hosts++;
        }
    }
    if (lengths > 0 && encodings > 0)
        return bad(h, 400, "Content-Length and Transfer-Encoding together");
    if (encodings > 0 && h->minor == 0)
        return bad(h, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (hosts > 1 || (hosts == 0 && h->minor >= 1))
        return bad(h, 400, "an HTTP/1.1 request needs exactly one Host");
    return SN_HEAD_COMPLETE;
}

static int blank(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != '\r' && buf[i] != '\n')
            return 0;
    return 1;
}

int sn_head_parse(const char *buf, size_t len, size_t last_len, sn_head *h)
{
    struct phr_header fields[SN_HEAD_MAX_FIELDS];
    size_t n = SN_HEAD_MAX_FIELDS;
    const char *method, *target;
    size_t method_len, target_len;
    size_t seen = len < SN_HEAD_MAX_BYTES ? len : SN_HEAD_MAX_BYTES;

    h->len = 0;
    h->nfields = 0;
    h->chunked = 0;
    h->content_length = SIZE_MAX;
    h->status = 0;
    h->why = NULL;
    int rc = phr_parse_request(buf, seen, &method, &method_len, &target, &target_len, &h->minor,
                               fields, &n, last_len < seen ? last_len : 0);
    if (rc == -2)
        return len >= SN_HEAD_MAX_BYTES
                   ? bad(h, 431, "the request line and headers are over 32768 bytes")
                   : SN_HEAD_PARTIAL;
    if (rc == -1)
        return len <= 4 && blank(buf, len) ? SN_HEAD_BLANK
                                           : bad(h, 400, "the request head could not be read");
    h->len = (size_t)rc;
    h->method = h2o_iovec_init(method, method_len);
    h->target = h2o_iovec_init(target, target_len);
    h->nfields = n;
    for (size_t i = 0; i < n; i++) {
        h->fields[i].name = h2o_iovec_init(fields[i].name, fields[i].name_len);
        h->fields[i].value = h2o_iovec_init(fields[i].value, fields[i].value_len);
    }
    return framing(h);
}

h2o_iovec_t sn_head_get(const sn_head *h, const char *name)
{
    for (size_t i = 0; i < h->nfields; i++)
        if (h->fields[i].name.base != NULL && named(&h->fields[i], name))
            return h->fields[i].value;
    return h2o_iovec_init(NULL, 0);
}

int sn_correlator_valid(h2o_iovec_t v)
{
    static const char extra[] = "-_:;./<>{}";
    if (v.len > 256)
        return 0;
    for (size_t i = 0; i < v.len; i++) {
        char ch = v.base[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              (ch != '\0' && strchr(extra, ch) != NULL)))
            return 0;
    }
    return 1;
}
