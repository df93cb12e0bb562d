/*
 * limits.c - the per-key limits on checks (auth/keylimits.h) as the check
 * routes apply them: the key's own limits or the server's, the deployment's
 * calendar day, and the 429 with Retry-After. Loop thread; no store.
 */
#include "http/http.h"

#include "core/date.h"
#include "util/clock.h"
#include "util/clock.h"
#include "util/metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#define SECONDS_PER_DAY 86400

int sn_call_count_checks(sn_call *c, uint64_t n)
{
    const sn_service *svc = c->svc;
    if (svc->meters == NULL || c->who.role == SN_ROLE_NONE)
        return 1;
    sn_check_limits lim = {c->limits.per_s ? c->limits.per_s : svc->key_limits.per_s,
                           c->limits.per_day ? c->limits.per_day : svc->key_limits.per_day};
    int64_t now = sn_wall_sec(), retry = 1;
    int64_t local = now + (int64_t)svc->rules.tz_minutes * 60;
    int64_t into_day = ((local % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
    sn_limit_verdict v = sn_key_meter_take(svc->meters, c->who.key, &lim, n, sn_monotonic_ns(),
                                           sn_day_of(now, svc->rules.tz_minutes),
                                           SECONDS_PER_DAY - into_day, &retry);
    if (v == SN_LIMIT_OK)
        return 1;
    char text[24];
    int len = snprintf(text, sizeof(text), "%" PRId64, retry);
    h2o_add_header(&c->req->pool, &c->req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                   h2o_strdup(&c->req->pool, text, (size_t)len).base, (size_t)len);
    sn_metrics_count_refusal(v == SN_LIMIT_RATE ? SN_METRICS_REFUSAL_KEY_SECOND
                                                : SN_METRICS_REFUSAL_KEY_DAY);
    if (v == SN_LIMIT_RATE)
        sn_reply_error(c, SN_HTTP_TOO_MANY_REQUESTS,
                       "too many checks with this key: at most %" PRIu32
                       " numbers a second (this request has %" PRIu64 "); retry after %" PRId64
                       " s",
                       lim.per_s, n, retry);
    else
        sn_reply_error(c, SN_HTTP_TOO_MANY_REQUESTS,
                       "too many checks with this key today: at most %" PRIu64
                       " numbers a day on this server (this request has %" PRIu64
                       "); retry after %" PRId64 " s, when the day ends",
                       lim.per_day, n, retry);
    return 0;
}
