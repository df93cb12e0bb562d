/*
 * h_range.c - the range check, POST /v1/check/range (k-anonymity): the
 * caller sends the first 5 hex digits of SHA-256 of its number's E.164
 * text and a date, and gets every indexed number with that digest prefix
 * as (the digest's other 59 hex digits, the verdict on that date); it picks
 * its own number locally, so the registry never learns which one was asked.
 * An answer lists at most svc->range_max numbers (serve --range-max); a
 * prefix with more is refused whole (413), never cut short, because a
 * caller whose number was cut off would read it as unknown. The request
 * counts against the key's limits by the numbers listed (at least one).
 */
#include "http/body.h"
#include "service/checks.h"

#include "core/errors.h"
#include "util/metrics.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX_HEX (SN_RANGE_PREFIX_BITS / 4)
/* One entry: {"suffix":"<59 hex>","result":"<longest verdict>"}, and a comma. */
#define RANGE_ENTRY_MAX (64 + 24 + 32)

/* The longest request body: the two fields, with room for spaces. */
#define RANGE_BODY_MAX 248

enum { F_PREFIX, F_DATE, NFIELDS };

/* The prefix text (exactly PREFIX_HEX hex digits, either case) as a number,
 * and in lowercase into hex; 0 when it is not. */
static int parse_prefix(const char *s, size_t len, uint32_t *prefix, char hex[PREFIX_HEX + 1])
{
    static const char digits[] = "0123456789abcdef";
    uint32_t v = 0;
    if (s == NULL || len != PREFIX_HEX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        const char *d = strchr(digits, s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
        if (s[i] == '\0' || d == NULL)
            return 0;
        v = v << 4 | (uint32_t)(d - digits);
        hex[i] = *d;
    }
    hex[PREFIX_HEX] = '\0';
    *prefix = v;
    return 1;
}

/* Refuse the request (counted as one invalid check). */
static void refuse(sn_call *c, sn_http_error e, const char *msg)
{
    if (!sn_call_count_checks(c, 1))
        return;
    sn_metrics_count_checks(c->who.app, SN_METRICS_API_RANGE, SN_METRICS_VERDICT_INVALID, 1);
    sn_reply_error(c, e, "%s", msg);
}

/* The answer's JSON into the request's pool; its length in *len. */
static char *answer_json(sn_call *c, const char *hex, sn_day day, const sn_range_entry *r, size_t n,
                         size_t *len)
{
    char date[SN_DAY_TEXT_MAX], suffix[65];
    size_t cap = 96 + n * RANGE_ENTRY_MAX, at;
    char *out = h2o_mem_alloc_pool(&c->req->pool, cap);
    sn_day_format(day, date);
    at = (size_t)snprintf(out, cap, "{\"prefix\":\"%s\",\"date\":\"%s\",\"results\":[", hex, date);
    for (size_t i = 0; i < n; i++) {
        sodium_bin2hex(suffix, sizeof(suffix), r[i].sha256, 32);
        at +=
            (size_t)snprintf(out + at, cap - at, "%s{\"suffix\":\"%s\",\"result\":\"%s\"}",
                             i > 0 ? "," : "", suffix + PREFIX_HEX, sn_verdict_name(r[i].verdict));
    }
    at += (size_t)snprintf(out + at, cap - at, "]}");
    *len = at;
    return out;
}

/* Count the answer's numbers for the metrics, by verdict (an empty answer
 * as one unknown, as it counts against the key's limits). */
static void count_listed(sn_call *c, const sn_range_entry *r, size_t n)
{
    uint64_t by[SN_METRICS_VERDICTS] = {0};
    for (size_t i = 0; i < n; i++)
        by[r[i].verdict]++;
    if (n == 0)
        by[SN_VERDICT_UNKNOWN] = 1;
    for (int v = 0; v < SN_METRICS_VERDICTS; v++)
        if (by[v] > 0)
            sn_metrics_count_checks(c->who.app, SN_METRICS_API_RANGE, v, by[v]);
}

/* The question of the body: prefix (as a number and its lowercase text)
 * and day; 0 with the reason in why. */
static int question_of(sn_call *c, uint32_t *prefix, char hex[PREFIX_HEX + 1], sn_day *day,
                       char *why, size_t whylen)
{
    sn_flat_field f[NFIELDS] = {{"prefix", NULL, 0, 0}, {"date", NULL, 0, 0}};
    char scratch[RANGE_BODY_MAX + NFIELDS + 1];
    if (c->req->entity.len > RANGE_BODY_MAX) {
        snprintf(why, whylen, "the request body is longer than %d bytes", RANGE_BODY_MAX);
        return 0;
    }
    if (sn_flatjson_parse(c->req->entity.base, c->req->entity.len, f, NFIELDS, scratch,
                          sizeof(scratch), why, whylen) != SN_OK)
        return 0;
    if (!parse_prefix(f[F_PREFIX].value, f[F_PREFIX].len, prefix, hex)) {
        snprintf(why, whylen, "prefix must be the first 5 hex digits of the number's SHA-256");
        return 0;
    }
    if (f[F_DATE].value == NULL) {
        snprintf(why, whylen, "date is required");
        return 0;
    }
    return sn_day_parse(f[F_DATE].value, f[F_DATE].len, day, why, whylen) == SN_OK;
}

void sn_h_check_range(sn_call *c)
{
    char why[SN_ERRMSG_MAX], hex[PREFIX_HEX + 1];
    size_t max = c->svc->range_max > 0 ? c->svc->range_max : SN_RANGE_RESULTS_MAX_DEFAULT, n = 0,
           len;
    uint32_t prefix = 0;
    sn_day day;
    sn_range_entry *r;
    int rc;
    if (!question_of(c, &prefix, hex, &day, why, sizeof(why))) {
        refuse(c, SN_HTTP_INVALID_ARGUMENT, why);
        return;
    }
    sn_call_audit_check(c, 0, 0, day, -1); /* the trail knows no number either */
    if ((r = malloc(max * sizeof(*r))) == NULL) {
        sn_reply_error(c, SN_HTTP_INTERNAL, "out of memory");
        return;
    }
    rc = sn_check_range(c->svc, sn_check_today(c->svc), prefix, day, r, max, &n, why, sizeof(why));
    if (rc != SN_OK)
        refuse(c,
               rc == SN_ELIMIT    ? SN_HTTP_PAYLOAD_TOO_LARGE
               : rc == SN_ENOMEM  ? SN_HTTP_INTERNAL
               : rc == SN_ECONFIG ? SN_HTTP_SERVICE_NOT_APPLICABLE
                                  : SN_HTTP_OUT_OF_RANGE,
               why);
    else if (sn_call_count_checks(c, n > 0 ? n : 1)) {
        const char *out = answer_json(c, hex, day, r, n, &len);
        count_listed(c, r, n);
        sn_reply_json(c, 200, out, len);
    }
    free(r);
}
