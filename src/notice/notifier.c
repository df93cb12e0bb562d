/*
 * notifier.c - the reissue guard and notice issue (see notifier.h).
 */
#include "notice/notifier.h"

#include "core/errors.h"
#include "store/log.h"
#include "store/notices.h"

#include <string.h>
#include <time.h>

void sn_notifier_start(sn_notifier *n, sn_store *store, int64_t deadline_s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    n->store = store;
    n->deadline_s = deadline_s;
    n->now = ts.tv_sec;
    n->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    n->issued = 0;
}

int sn_notifier_allow(void *ctx, const sn_number_state *st, const sn_log_event *e, char *why,
                      size_t len)
{
    sn_notifier *n = ctx;
    char err[SN_ERRMSG_MAX], until_text[SN_TIME_TEXT_MAX];
    uint32_t apps = 0;
    int64_t until = 0;
    if ((e->flags & SN_LOG_FORCED) || !sn_notice_is_reissue(st, e->ev.kind))
        return SN_OK;
    if (sn_store_open_cancellations(n->store, e->ev.number, n->now, &apps, &until, err,
                                    sizeof(err)) != SN_OK)
        return sn_fail(why, len, SN_ESTORE, "cannot read open notices: %s", err);
    if (apps == 0)
        return SN_OK;
    sn_utc_format(until, until_text);
    return sn_fail(why, len, SN_EHELD,
                   "reissue held: %u app%s still ha%s open number_cancelled notices, deadline %s; "
                   "send \"force\": true to reissue anyway",
                   apps, apps == 1 ? "" : "s", apps == 1 ? "s" : "ve", until_text);
}

int sn_notifier_applied(void *ctx, sn_store *s, const sn_number_state *before,
                        const sn_number_state *after, const sn_log_event *e, char *err,
                        size_t errlen)
{
    sn_notifier *n = ctx;
    sn_notice_spec spec;
    size_t issued = 0;
    memset(&spec, 0, sizeof(spec));
    spec.kind = (uint8_t)sn_notice_for(before, after, e->ev.kind, &spec.tenure);
    if (spec.kind == SN_NOTICE_NONE)
        return SN_OK;
    spec.number = e->ev.number;
    spec.event = e->ev.kind;
    spec.event_at = e->ev.at;
    spec.created = n->now;
    spec.deadline = n->now + n->deadline_s;
    spec.now_ms = n->now_ms;
    int rc = sn_store_issue_notices(s, &spec, &issued, err, errlen);
    n->issued += issued;
    return rc;
}

sn_ledger_guard sn_notifier_guard(sn_notifier *n)
{
    return (sn_ledger_guard){sn_notifier_allow, n, sn_notifier_applied};
}
