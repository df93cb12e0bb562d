/*
 * verdict.c - the check semantics of PRODUCT.md (see verdict.h for the order
 * of the branches, which is the whole specification). Thread-safe: no state.
 */
#include "core/verdict.h"

#include "core/errors.h"
#include "core/names.h"

#include <stdio.h>

static const char *const verdict_names[] = {"unknown", "unchanged", "disconnected", "reassigned"};

const char *sn_verdict_name(sn_verdict v)
{
    const char *name = sn_name_of(SN_NAMES(verdict_names), (int)v);
    return name != NULL ? name : "unknown";
}

sn_verdict sn_verdict_of(const sn_number_state *st, sn_day d, sn_verdict_reason *why)
{
    sn_verdict_reason r;
    sn_verdict v;

    if (st == NULL || st->status == SN_ST_UNSEEN) {
        r = SN_WHY_NEVER_REPORTED;
        v = SN_VERDICT_UNKNOWN;
    } else if (st->last_activation_day != SN_DAY_NONE && st->last_activation_day > d) {
        r = SN_WHY_ACTIVATED_AFTER;
        v = SN_VERDICT_REASSIGNED;
    } else if (!st->first_is_activation && d < st->first_day) {
        r = SN_WHY_BEFORE_FIRST_RECORD;
        v = SN_VERDICT_UNKNOWN;
    } else if ((st->status == SN_ST_FROZEN || st->status == SN_ST_POOL) &&
               st->last_cancel_day != SN_DAY_NONE && st->last_cancel_day >= d) {
        r = SN_WHY_CANCELLED_SINCE;
        v = SN_VERDICT_DISCONNECTED;
    } else {
        r = SN_WHY_SAME_TENURE;
        v = SN_VERDICT_UNCHANGED;
    }
    if (why != NULL)
        *why = r;
    return v;
}

int sn_check_day(sn_day d, sn_day today, char *err, size_t errlen)
{
    if (d <= today)
        return SN_OK;
    char a[SN_DAY_TEXT_MAX], b[SN_DAY_TEXT_MAX];
    sn_day_format(d, a);
    sn_day_format(today, b);
    return sn_fail(err, errlen, SN_EFUTURE, "date %s is in the future (today is %s)", a, b);
}

void sn_verdict_explain(const sn_number_state *st, sn_verdict_reason why, char *buf, size_t len)
{
    char day[SN_DAY_TEXT_MAX] = "";
    switch (why) {
    case SN_WHY_NEVER_REPORTED:
        snprintf(buf, len, "never reported");
        return;
    case SN_WHY_BEFORE_FIRST_RECORD:
        sn_day_format(st->first_day, day);
        snprintf(buf, len, "no data before the first record on %s", day);
        return;
    case SN_WHY_ACTIVATED_AFTER:
        sn_day_format(st->last_activation_day, day);
        snprintf(buf, len, "activated for a new subscriber on %s", day);
        return;
    case SN_WHY_CANCELLED_SINCE:
        sn_day_format(st->last_cancel_day, day);
        snprintf(buf, len, "cancelled on %s, not reissued", day);
        return;
    case SN_WHY_SAME_TENURE:
        snprintf(buf, len, "same subscriber since the date");
        return;
    }
    snprintf(buf, len, "?");
}
