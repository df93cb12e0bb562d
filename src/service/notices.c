/*
 * notices.c - the app's side of notices (see notices.h).
 */
#include "service/notices.h"

#include "core/errors.h"
#include "service/checks.h"
#include "store/bindings.h"
#include "util/clock.h"

#include <time.h>

int sn_notices_list(sn_store *s, const sn_notice_query *q, sn_notice_fn fn, void *ctx, char *err,
                    size_t errlen)
{
    return sn_store_list_notices(s, q, fn, ctx, err, errlen);
}

int sn_notices_get(sn_store *s, uint32_t app, uint64_t id, sn_notice *out, char *err, size_t errlen)
{
    int rc = sn_store_get_notice(s, id, out, err, errlen);
    if (rc == SN_OK && app != 0 && out->app != app)
        rc = sn_fail(err, errlen, SN_ENOTFOUND, "no notice %llu", (unsigned long long)id);
    return rc;
}

static int ack(sn_store *s, uint32_t app, uint64_t id, int outcome, const char *note, sn_notice *n,
               char *err, size_t errlen)
{
    int found, rc = sn_notices_get(s, app, id, n, err, errlen);
    if (rc != SN_OK)
        return rc;
    if (n->outcome != SN_OUTCOME_NONE && n->outcome != outcome)
        return sn_fail(err, errlen, SN_ECONFLICT, "notice %llu was already acknowledged as %s",
                       (unsigned long long)n->id, sn_outcome_name(n->outcome));
    if (n->outcome != SN_OUTCOME_NONE)
        return SN_OK;
    if ((rc = sn_store_ack_notice(s, n->id, outcome, note, sn_wall_sec(), err, errlen)) != SN_OK)
        return rc;
    if (sn_outcome_unbinds(outcome) && n->has_account &&
        (rc = sn_store_delete_binding(s, n->app, n->number, n->account, &found, err, errlen)) !=
            SN_OK)
        return rc;
    return sn_store_get_notice(s, n->id, n, err, errlen);
}

int sn_notices_ack(sn_store *s, uint32_t app, uint64_t id, int outcome, const char *note,
                   sn_notice *out, char *err, size_t errlen)
{
    int rc = sn_store_begin(s, err, errlen);
    if (rc == SN_OK)
        rc = ack(s, app, id, outcome, note, out, err, errlen);
    return sn_store_end(s, rc, 0, err, errlen);
}

int sn_notices_disconnections(const sn_service *svc, sn_store *s, sn_day since, sn_number after,
                              uint32_t limit, sn_disconnection_fn fn, void *ctx, char *err,
                              size_t errlen)
{
    if (since > sn_check_today(svc))
        return sn_fail(err, errlen, SN_EFUTURE, "since is in the future");
    return sn_store_list_disconnections(s, since, after, limit, fn, ctx, err, errlen);
}
