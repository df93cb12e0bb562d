/*
 * verdict.h - the check answer for a number and a date (pure).
 *
 * For number N and jurisdiction day D, in this order:
 *   reassigned   - some activation of N happened on a day strictly after D;
 *   unknown      - N was never reported, or its first record is not an
 *                  activation and D is before that record;
 *   disconnected - N is now cancelled (frozen or pool) and its latest
 *                  cancellation was on D or later;
 *   unchanged    - otherwise: the tenure that held N on D still holds it.
 * Same-day rules: an activation on D is the subscriber's own (not after D);
 * a cancellation on D counts as since D. A D after today is a client error,
 * decided by the caller who knows today (sn_check_day).
 */
#ifndef SN_VERDICT_H
#define SN_VERDICT_H

#include "core/lifecycle.h"

typedef enum {
    SN_VERDICT_UNKNOWN = 0,
    SN_VERDICT_UNCHANGED = 1,
    SN_VERDICT_DISCONNECTED = 2,
    SN_VERDICT_REASSIGNED = 3,
} sn_verdict;

/* Why the verdict is what it is; each maps to one sentence (sn_verdict_explain). */
typedef enum {
    SN_WHY_NEVER_REPORTED = 0,
    SN_WHY_BEFORE_FIRST_RECORD = 1,
    SN_WHY_ACTIVATED_AFTER = 2,
    SN_WHY_CANCELLED_SINCE = 3,
    SN_WHY_SAME_TENURE = 4,
} sn_verdict_reason;

/* "reassigned", "disconnected", "unchanged", "unknown". */
const char *sn_verdict_name(sn_verdict v);

/* The verdict for day d. st may be NULL or an UNSEEN state (never reported).
 * why, when not NULL, receives the branch taken. Never fails. */
sn_verdict sn_verdict_of(const sn_number_state *st, sn_day d, sn_verdict_reason *why);

/* Check day d against today: SN_OK, or SN_EFUTURE with a message. */
int sn_check_day(sn_day d, sn_day today, char *err, size_t errlen);

/* One sentence for a verdict reason, naming the day that decided it
 * ("activated 2024-05-01"); writes at most len bytes. */
void sn_verdict_explain(const sn_number_state *st, sn_verdict_reason why, char *buf, size_t len);

#endif
