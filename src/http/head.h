/*
 * head.h - a request's head as the bytes on the wire, and the framing rules
 * (RFC 9112 section 6) judged on it before any of the body is read.
 *
 * h2o 2.2 reads the head with picohttpparser and then frames the body by
 * the first Content-Length or the last Transfer-Encoding, silently: a
 * request with both, or with two lengths, is read one way here and maybe
 * another way by a proxy in front, and what is left over is answered as a
 * request of its own (request smuggling). So every head is parsed again
 * with the same parser (the same fields, the same bytes) and refused, 400
 * with the connection closed, unless its framing has exactly one reading:
 *
 *   - Content-Length at most once, and only digits;
 *   - Transfer-Encoding at most once, exactly "chunked" (any case), never
 *     together with Content-Length, never in an HTTP/1.0 request;
 *   - no header line folded onto the previous one (obs-fold);
 *   - exactly one Host in HTTP/1.1 (at most one in HTTP/1.0).
 *
 * Also the x-correlator's syntax, which every answer's echo obeys.
 *
 * Pure functions on bytes; any thread.
 */
#ifndef SN_HEAD_H
#define SN_HEAD_H

#include <h2o.h>
#include <stddef.h>

/* As h2o: more fields than this are refused. */
#define SN_HEAD_MAX_FIELDS H2O_MAX_HEADERS

/* A head that has not ended within this many bytes (request line, fields
 * and blank line) is refused 431 rather than buffered further. h2o's own
 * limit is about 408 KiB; the API's header fields may take 16 KiB. */
#define SN_HEAD_MAX_BYTES (32u << 10)

typedef struct {
    h2o_iovec_t name, value; /* as on the wire (h2o may have lowercased the name since) */
} sn_head_field;

typedef struct {
    size_t len; /* bytes of the head, request line to blank line */
    h2o_iovec_t method, target;
    int minor; /* HTTP/1.<minor> */
    sn_head_field fields[SN_HEAD_MAX_FIELDS];
    size_t nfields;
    /* the body's framing */
    int chunked;           /* Transfer-Encoding: chunked */
    size_t content_length; /* SIZE_MAX: none given */
    /* why the head is refused (SN_HEAD_BAD): status and a sentence */
    int status;
    const char *why;
} sn_head;

enum {
    SN_HEAD_COMPLETE = 0, /* h filled, framing sound */
    SN_HEAD_PARTIAL = 1,  /* not all there yet, and not over SN_HEAD_MAX_BYTES */
    SN_HEAD_BAD = 2,      /* h->status (400, 431) and h->why */
    SN_HEAD_BLANK = 3,    /* a few stray CR/LF between requests: h2o closes quietly */
};

/* The head at the start of buf (len bytes so far). last_len: how many of
 * them were there at the last SN_HEAD_PARTIAL (0 at first), so that a head
 * arriving a byte at a time is not scanned from its start each time. */
int sn_head_parse(const char *buf, size_t len, size_t last_len, sn_head *h);

/* A field's value (the first of that name, case-insensitive; name given in
 * lowercase), or {NULL, 0}. */
h2o_iovec_t sn_head_get(const sn_head *h, const char *name);

/* Is v a valid x-correlator (^[a-zA-Z0-9-_:;./<>{}]{0,256}$)? */
int sn_correlator_valid(h2o_iovec_t v);

#endif
