/*
 * notice.c - which events concern bound apps, outcomes and retry timing
 * (see notice.h).
 */
#include "core/notice.h"

#include "core/names.h"

#include <string.h>

int sn_notice_is_reissue(const sn_number_state *st, int event_kind)
{
    return event_kind == SN_EV_ACTIVATE && (st->status == SN_ST_FROZEN || st->status == SN_ST_POOL);
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

static const char *const kind_names[] = {NULL, "number_cancelled", "number_reassigned",
                                         "unbind_request"};
static const char *const event_words[] = {"reissue", "cancel", "reissue", "subscriber_request"};
static const char *const outcome_names[] = {NULL, "unbound", "reverified", "not_found", "refused"};

const char *sn_notice_kind_name(int kind)
{
    return sn_name_of(SN_NAMES(kind_names), kind);
}

const char *sn_notice_event_word(int kind)
{
    const char *w = sn_name_of(SN_NAMES(event_words), kind);
    return w != NULL ? w : "reissue";
}

const char *sn_outcome_name(int outcome)
{
    return sn_name_of(SN_NAMES(outcome_names), outcome);
}

sn_outcome sn_outcome_parse(const char *s)
{
    return (sn_outcome)sn_name_find(SN_NAMES(outcome_names), s, SN_OUTCOME_NONE);
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
