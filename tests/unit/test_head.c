/* test_head.c - http/head.c: a request head parsed as h2o parses it, and
 * its framing rules: one Content-Length of digits, one Transfer-Encoding of
 * exactly "chunked" and never both, none in HTTP/1.0, no obs-fold, one Host;
 * partial heads, a head over SN_HEAD_MAX_BYTES (431), stray CR/LF, garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "http/head.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sn_head h;

static int parse(const char *text)
{
    return sn_head_parse(text, strlen(text), 0, &h);
}

static void bad(const char *text, int status)
{
    int rc = parse(text);
    if (rc != SN_HEAD_BAD || h.status != status)
        fail_msg("expected %d for %s: rc %d status %d", status, text, rc, h.status);
    assert_non_null(h.why);
}

static void sound_heads(void **state)
{
    (void)state;
    const char *get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(parse(get), SN_HEAD_COMPLETE);
    assert_int_equal(h.len, strlen(get));
    assert_int_equal(h.content_length, SIZE_MAX);
    assert_int_equal(h.chunked, 0);
    assert_int_equal(h.minor, 1);
    assert_int_equal(h.method.len, 3);
    assert_memory_equal(h.target.base, "/healthz", 8);

    assert_int_equal(parse("POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length:  42 \r\n\r\n{"),
                     SN_HEAD_COMPLETE);
    assert_int_equal(h.content_length, 42);
    assert_int_equal(h.len,
                     strlen("POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length:  42 \r\n\r\n"));
    assert_int_equal(parse("POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: ChUnKeD\r\n\r\n"),
                     SN_HEAD_COMPLETE);
    assert_int_equal(h.chunked, 1);
    assert_int_equal(h.content_length, SIZE_MAX);
    /* HTTP/1.0 needs no Host; a leading CRLF (after a previous body) is skipped */
    assert_int_equal(parse("\r\nGET / HTTP/1.0\r\n\r\n"), SN_HEAD_COMPLETE);
    assert_int_equal(h.minor, 0);
    assert_int_equal(parse("POST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n"), SN_HEAD_COMPLETE);
    assert_int_equal(h.content_length, 0);
    /* field lookup: first of the name, any case */
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\n\r\n"),
                     SN_HEAD_COMPLETE);
    h2o_iovec_t v = sn_head_get(&h, "x-a");
    assert_int_equal(v.len, 1);
    assert_int_equal(v.base[0], '1');
    assert_null(sn_head_get(&h, "x-b").base);
    /* only letters fold: '^' is not '~' (they differ by the case bit too);
     * framing fields in capitals still count */
    assert_int_equal(parse("POST / HTTP/1.1\r\nHOST: x\r\nX^A: 1\r\nCONTENT-LENGTH: 3\r\n\r\n"),
                     SN_HEAD_COMPLETE);
    assert_null(sn_head_get(&h, "x~a").base);
    assert_int_equal(sn_head_get(&h, "x^a").len, 1);
    assert_int_equal(h.content_length, 3);
    bad("POST / HTTP/1.1\r\nHOST: x\r\nhost: y\r\n\r\n", 400);
}

static void ambiguous_framing(void **state)
{
    (void)state;
    bad("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n", 400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", 400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\n", 400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n", 400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", 400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
        "\r\n",
        400);
    bad("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    bad("POST / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n\r\n", 400);
    bad("GET / HTTP/1.1\r\n\r\n", 400);
    bad("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400);
    bad("GET / HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n", 400);
    /* a space before the colon is no field name (picohttpparser refuses it) */
    bad("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n", 400);
}

static void partial_long_and_garbage(void **state)
{
    (void)state;
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Len"), SN_HEAD_PARTIAL);
    assert_int_equal(parse("G"), SN_HEAD_PARTIAL);
    assert_int_equal(parse(""), SN_HEAD_PARTIAL);
    assert_int_equal(parse("\r\n\r\n"), SN_HEAD_BLANK);
    bad("GARBAGE\r\n\r\n", 400);
    bad("\x01\x02\x03\r\n\r\n", 400);

    /* a head that has not ended within SN_HEAD_MAX_BYTES */
    size_t n = SN_HEAD_MAX_BYTES + 100;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'a', n);
    memcpy(big, "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ", 31);
    big[n] = '\0';
    bad(big, 431);
    /* just under it, complete: fine */
    strcpy(big + SN_HEAD_MAX_BYTES - 10, "\r\n\r\n");
    assert_int_equal(parse(big), SN_HEAD_COMPLETE);
    free(big);

    /* more fields than h2o takes */
    char many[8192] = "GET / HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < SN_HEAD_MAX_FIELDS; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "X-%d: v\r\n", i);
    strcat(many, "\r\n");
    bad(many, 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sound_heads),
        cmocka_unit_test(ambiguous_framing),
        cmocka_unit_test(partial_long_and_garbage),
    };
    return sn_run_tests(tests);
}
