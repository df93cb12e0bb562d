/*
 * notice.c - which events concern bound apps, outcomes and retry timing
 * (see notice.h).
 */
#include "core/notice.h"

#include <string.h>

int sn_notice_is_reissue(const sn_number_state *st, int event_kind)
{
    return event_kind == SN_EV_ACTIVATE &&
           (st->status == SN_ST_FROZEN || st->status == SN_ST_POOL);
}

sn_notice_kind sn_notice_for(const sn_number_state *before, const sn_number_state *after,
                             int event_kind, uint32_t *tenure)
{
    if (before->status == SN_ST_UNSEEN)
        return SN_NOTICE_NONE; /* a first record ends or starts nothing we knew of */
    if (event_kind == SN_EV_CANCEL) {
        *tenure = before->tenure;
        return SN_NOTICE_CANCELLED;
    }
    if (sn_notice_is_reissue(before, event_kind) && after->tenure > before->tenure) {
        *tenure = after->tenure;
        return SN_NOTICE_REASSIGNED;
    }
    return SN_NOTICE_NONE;
}

const char *sn_notice_kind_name(int kind)
{
    switch (kind) {
    case SN_NOTICE_CANCELLED: return "number_cancelled";
    case SN_NOTICE_REASSIGNED: return "number_reassigned";
    case SN_NOTICE_UNBIND_REQUEST: return "unbind_request";
    default: return NULL;
    }
}

const char *sn_notice_event_word(int kind)
{
    switch (kind) {
    case SN_NOTICE_CANCELLED: return "cancel";
    case SN_NOTICE_UNBIND_REQUEST: return "subscriber_request";
    default: return "reissue";
    }
}

static const char *const outcome_names[] = {NULL, "unbound", "reverified", "not_found", "refused"};

const char *sn_outcome_name(int outcome)
{
    if (outcome <= SN_OUTCOME_NONE || outcome > SN_OUTCOME_REFUSED)
        return NULL;
    return outcome_names[outcome];
}

sn_outcome sn_outcome_parse(const char *s)
{
    for (int i = SN_OUTCOME_UNBOUND; i <= SN_OUTCOME_REFUSED; i++)
        if (strcmp(s, outcome_names[i]) == 0)
            return (sn_outcome)i;
    return SN_OUTCOME_NONE;
}

int sn_outcome_unbinds(int outcome)
{
    return outcome == SN_OUTCOME_UNBOUND || outcome == SN_OUTCOME_NOT_FOUND;
}

int64_t sn_retry_delay_ms(unsigned attempt, int64_t base_ms, int64_t max_ms, uint32_t random)
{
    int64_t delay = base_ms > 0 ? base_ms : 1;
    for (unsigned i = 1; i < attempt && delay < max_ms; i++)
        delay *= 2;
    if (delay > max_ms)
        delay = max_ms;
    return delay - (int64_t)(random % (uint32_t)(delay / 2 + 1));
}
