/*
 * notice.h - what a change of a number's lifecycle means for the apps bound
 * to it (pure: no I/O, no clock).
 *
 * Bindings remember the tenure of the number they were made in (tenure 0:
 * before the number's first record). When the ledger applies an event:
 *   - a cancel ends tenure T: every binding made in T gets number_cancelled;
 *   - an activation that starts a new tenure T' (a reissue: the number was
 *     frozen or in the pool) means a new subscriber: every binding from a
 *     tenure below T' gets number_reassigned, the critical one.
 * Nothing else (suspend, resume, reclaim, release, port_in, a first record)
 * concerns bound apps. The same activation is what the reissue guard holds
 * while number_cancelled notices are still open.
 */
#ifndef SN_NOTICE_H
#define SN_NOTICE_H

#include "core/lifecycle.h"

#include <stdint.h>

typedef enum {
    SN_NOTICE_NONE = 0,
    SN_NOTICE_CANCELLED = 1,      /* bindings with tenure == the cancelled one */
    SN_NOTICE_REASSIGNED = 2,     /* bindings with tenure < the new one */
    SN_NOTICE_UNBIND_REQUEST = 3, /* a subscriber asked the app to unbind (no carrier event) */
} sn_notice_kind;

typedef enum { SN_SOURCE_BINDING = 1, SN_SOURCE_SUBSCRIPTION = 2 } sn_notice_source;

typedef enum {
    SN_OUTCOME_NONE = 0,
    SN_OUTCOME_UNBOUND = 1,
    SN_OUTCOME_REVERIFIED = 2,
    SN_OUTCOME_NOT_FOUND = 3,
    SN_OUTCOME_REFUSED = 4,
} sn_outcome;

/* The notice an applied event calls for, given the number's state before and
 * after it; *tenure is the tenure the bindings are compared with. */
sn_notice_kind sn_notice_for(const sn_number_state *before, const sn_number_state *after,
                             int event_kind, uint32_t *tenure);

/* Would applying `event_kind` to a number in state st start a new tenure?
 * (What the reissue guard holds.) */
int sn_notice_is_reissue(const sn_number_state *st, int event_kind);

/* "number_cancelled", "number_reassigned", "unbind_request"; NULL otherwise. */
const char *sn_notice_kind_name(int kind);
/* The "event" word of a notice of this kind: "cancel", "reissue", or
 * "subscriber_request" for an unbind request (no carrier event behind it). */
const char *sn_notice_event_word(int kind);
/* "unbound", ...; NULL for SN_OUTCOME_NONE and invalid values. */
const char *sn_outcome_name(int outcome);
/* Outcome from its name; SN_OUTCOME_NONE when unknown. */
sn_outcome sn_outcome_parse(const char *s);

/* Should an ack with `outcome` also delete the binding it was about? */
int sn_outcome_unbinds(int outcome);

/* Delay before retry number `attempt` (1 = after the first failure):
 * base * 2^(attempt-1), at most max, with jitter drawn from `random`: the
 * result is in [delay/2, delay]. */
int64_t sn_retry_delay_ms(unsigned attempt, int64_t base_ms, int64_t max_ms, uint32_t random);

#endif
