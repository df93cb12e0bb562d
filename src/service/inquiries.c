/*
 * inquiries.c - "who checked my number" (see inquiries.h). The number is
 * looked up by the audit trail's keyed hash of it (audit/audit.h), made
 * here from the deployment secret as the trail makes it; without a secret
 * the trail records no number and the list is empty.
 */
#include "service/inquiries.h"

#include "audit/audit.h"
#include "core/errors.h"
#include "store/log.h"

#include <stdint.h>

typedef struct {
    int64_t first, activation; /* instants (Unix s); -1 when none */
} tenure_start;

static int note_event(void *ctx, const sn_log_event *e, uint32_t ordinal)
{
    tenure_start *t = ctx;
    (void)ordinal;
    if (t->first < 0)
        t->first = e->ev.at;
    if (e->ev.kind == SN_EV_ACTIVATE)
        t->activation = e->ev.at;
    return 0;
}

/* The instant the number's current tenure started; INT64_MAX when it has
 * no history (nothing is listed). */
static int start_of_tenure(sn_store *s, sn_number n, int64_t *since, char *err, size_t errlen)
{
    tenure_start t = {-1, -1};
    int rc = sn_store_scan_events(s, n, note_event, &t, err, errlen);
    if (rc != SN_OK)
        return rc;
    *since = t.activation >= 0 ? t.activation : t.first >= 0 ? t.first : INT64_MAX;
    return SN_OK;
}

int sn_inquiries_list(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                      uint64_t before, uint32_t limit, sn_audit_inquiry_fn fn, void *ctx,
                      int64_t *since, char *err, size_t errlen)
{
    sn_session ses;
    uint8_t hash[SN_AUDIT_HASH_LEN];
    int rc = sn_signin_session(svc, s, token_hash, &ses, NULL, err, errlen);
    if (rc != SN_OK || (rc = start_of_tenure(s, ses.number, since, err, errlen)) != SN_OK)
        return rc;
    if (svc->secret == NULL || *since == INT64_MAX)
        return SN_OK;
    if (limit > SN_INQUIRIES_PAGE_MAX)
        return sn_fail(err, errlen, SN_EINVAL, "limit must be 1 to %d", SN_INQUIRIES_PAGE_MAX);
    sn_audit_number_hash(svc->secret, ses.number, hash);
    int64_t from_ms = *since > INT64_MAX / 1000 ? INT64_MAX : *since * 1000;
    int64_t below = before == 0 || before > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)before;
    return sn_store_audit_inquiries(s, hash, from_ms, below, limit, fn, ctx, err, errlen);
}
