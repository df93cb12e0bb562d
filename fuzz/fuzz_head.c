/* fuzz_head.c - libFuzzer driver: a request head on the wire through the
 * framing rules (head.h): never crashes; a complete head lies inside the
 * input, its fields inside the head, and a refused one says why with 400
 * or 431; parsing the same bytes in two pieces judges a complete head the
 * same way (a malformed one may be refused sooner or later, never taken). */
#include "http/head.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(h2o_iovec_t v, const char *buf, size_t len)
{
    return v.base == NULL || (v.base >= buf && v.base + v.len <= buf + len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sn_head h, again;
    const char *buf = (const char *)data;
    int rc = sn_head_parse(buf, size, 0, &h);
    if (rc == SN_HEAD_BAD && ((h.status != 400 && h.status != 431) || h.why == NULL))
        abort();
    if (rc == SN_HEAD_COMPLETE) {
        if (h.len == 0 || h.len > size || !inside(h.method, buf, h.len) ||
            !inside(h.target, buf, h.len) || h.nfields > SN_HEAD_MAX_FIELDS ||
            (h.chunked && h.content_length != SIZE_MAX))
            abort();
        for (size_t i = 0; i < h.nfields; i++)
            if (!inside(h.fields[i].name, buf, h.len) || !inside(h.fields[i].value, buf, h.len))
                abort();
    }
    /* the same bytes, the first half having been seen partial before */
    if (size > 1 && sn_head_parse(buf, size / 2, 0, &again) == SN_HEAD_PARTIAL) {
        int rc2 = sn_head_parse(buf, size, size / 2, &again);
        if ((rc2 == SN_HEAD_COMPLETE) != (rc == SN_HEAD_COMPLETE))
            abort();
        if (rc2 == SN_HEAD_COMPLETE &&
            (again.len != h.len || again.nfields != h.nfields || again.chunked != h.chunked ||
             again.content_length != h.content_length))
            abort();
    }
    return 0;
}
