/*
 * notifier.h - the ledger hooks that turn lifecycle changes into notices.
 *
 * Both writers of the ledger (POST /v1/events and `secondnum import`) install
 * these hooks, so a notice is issued in the same transaction as the event
 * behind it: a committed cancellation always has its notices and pending
 * deliveries, and a rolled-back one has none.
 *   allow:   the reissue guard. An activation that would start a new tenure
 *            is rejected (SN_EHELD) while the number has open
 *            number_cancelled notices before their deadline, unless the
 *            event is forced (SN_LOG_FORCED, recorded in the log).
 *   applied: issues the notices core/notice.h calls for.
 */
#ifndef SN_NOTIFIER_H
#define SN_NOTIFIER_H

#include "ledger/ledger.h"
#include "store/log.h"

#define SN_DEFAULT_NOTICE_DEADLINE_S (5 * 86400)

typedef struct {
    sn_store *store;    /* for the guard's lookups */
    int64_t deadline_s; /* a notice's deadline runs this long from its issue */
    int64_t now;        /* issue time (seconds), taken by sn_notifier_start */
    int64_t now_ms;
    size_t issued;      /* notices issued since sn_notifier_start */
} sn_notifier;

/* Set the clock for a batch and zero the count. */
void sn_notifier_start(sn_notifier *n, sn_store *store, int64_t deadline_s);

/* The reissue guard (a sn_ledger_guard allow with ctx = the notifier). */
int sn_notifier_allow(void *ctx, const sn_number_state *st, const sn_log_event *e, char *why,
                      size_t len);

/* Issue notices for an applied event (a sn_ledger_guard applied hook). */
int sn_notifier_applied(void *ctx, sn_store *s, const sn_number_state *before,
                        const sn_number_state *after, const sn_log_event *e, char *err,
                        size_t errlen);

/* Both hooks as a guard. */
sn_ledger_guard sn_notifier_guard(sn_notifier *n);


#endif
